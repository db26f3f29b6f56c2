package dev.secretsencrypt.apiserver;

import dev.secretsencrypt.config.ConfigHash;
import dev.secretsencrypt.testing.Await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.testing.Pki;
import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.testing.SimulatedApiserver;
import dev.secretsencrypt.testing.SimulatedApiserver.Mode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("unit")
class HttpApiserverProbeTest {
    static final Path REAL_PAGE = Path.of("testdata", "apiserver-metrics", "kube-apiserver-v1.37.2-after-a-failed-reload.txt");
    // what that page's apiserver said, and when (see testdata/apiserver-metrics/README.md)
    static final String REAL_LOADED = "fda5f3c70041a3872ffd4c6e8e86dc9f37e95e25df2bda6795975be0bb399a9c";

    @TempDir
    Path tmp;

    // ---- the rules, on kube-apiserver v1.37.2's own page (served on the host "vm") ----

    static final ApiserverIdentity VM = ApiserverIdentity.ofHostname("vm");

    @Test
    void lastConfigInfoNamesTheConfigKubeApiserverServesEvenAfterAFailedReload() throws IOException {
        assertEquals(new LoadedConfig.Loaded(new ConfigHash(REAL_LOADED), VM),
                HttpApiserverProbe.judge(realPage(l -> true), "it", VM));
    }

    @Test
    void theSameAnswerFromAnotherServersApiserverNeverCountsAndNamesTheIdentityThatAnswered() throws IOException {
        // what an agent on node-3 sees through a load balancer on 127.0.0.1 when the apiserver of "vm" answers
        LoadedConfig other = HttpApiserverProbe.judge(realPage(l -> true), "kube-apiserver at https://127.0.0.1:6443",
                ApiserverIdentity.ofHostname("node-3"));
        assertInstanceOf(LoadedConfig.Unknown.class, other);
        assertEquals(Optional.of(VM.idHash()), ((LoadedConfig.Unknown) other).answeredBy());
        assertTrue(why(other).startsWith("kube-apiserver at https://127.0.0.1:6443 answered as another kube-apiserver "
                + "(apiserver_id_hash " + VM.idHash() + "), not this server's (" + ApiserverIdentity.ofHostname("node-3")
                + ", "), why(other));
    }

    @Test
    void twoLastConfigInfoSamplesAreNoOneApiserversAnswer() {
        MetricsText page = MetricsText.parse(LastConfigInfo.METRIC + "{apiserver_id_hash=\"" + VM.idHash() + "\",hash=\"sha256:"
                + "ab".repeat(32) + "\"} 1\n" + LastConfigInfo.METRIC + "{apiserver_id_hash=\"sha256:2\",hash=\"sha256:"
                + "cd".repeat(32) + "\"} 1\n");
        LoadedConfig two = HttpApiserverProbe.judge(page, "it", VM);
        assertInstanceOf(LoadedConfig.Unknown.class, two);
        assertTrue(why(two).contains("not a load balancer"), why(two));
    }

    @Test
    void olderReleasesNameNeitherTheConfigNorThemselvesSoTheirAnswersNeverCount() throws IOException {
        // 1.30-1.33: the same page without last_config_info (the reload counters carry an identity, no digest)
        LoadedConfig counters = HttpApiserverProbe.judge(realPage(l -> !l.contains("last_config_info")), "it", VM);
        assertInstanceOf(LoadedConfig.Unknown.class, counters);
        assertTrue(why(counters).contains("before 1.34") && why(counters).contains("without --apiserver-url"),
                why(counters));
        // without automatic reload before 1.34: no encryption metrics at all
        LoadedConfig restartOnly = HttpApiserverProbe.judge(realPage(l -> !l.contains("encryption_config")), "it", VM);
        assertTrue(why(restartOnly).contains("before 1.34"), why(restartOnly));
    }

    @Test
    void anEmptyIdentityIsNoAnswerThatCanBeToldFromAnotherServers() {
        MetricsText page = MetricsText.parse(LastConfigInfo.METRIC + "{apiserver_id_hash=\"\",hash=\"sha256:"
                + "ab".repeat(32) + "\"} 1\n");
        assertTrue(why(HttpApiserverProbe.judge(page, "it", VM)).contains("APIServerIdentity feature gate"));
    }

    @Test
    void aPageWithNoneOfTheMetricsSaysNothingUsable() {
        LoadedConfig none = HttpApiserverProbe.judge(MetricsText.parse("go_goroutines 12\n"), "it", VM);
        assertInstanceOf(LoadedConfig.Unknown.class, none);
        assertTrue(why(none).contains("check that --apiserver-url"), why(none));
    }

    // ---- over HTTPS, against a simulated kube-apiserver ----

    @Test
    void newerReleasesReportTheLoadedHashAndALaggingOneStillTheOldOneUntilItCatchesUp() throws Exception {
        Path file = writeConfig(tmp.resolve("encryption-config.json"));
        try (SimulatedApiserver api = SimulatedApiserver.start(file, Mode.LAST_CONFIG_INFO)) {
            HttpApiserverProbe probe = probe(api, Optional.empty());
            ConfigHash first = hashOf(file);
            assertEquals(new LoadedConfig.Loaded(first, api.identity()), probe.probe());

            api.setLag(Duration.ofMinutes(5));
            writeConfig(file);
            Thread.sleep(600); // the point: the lagging apiserver has seen the new file (it polls every 200 ms)
            assertEquals(new LoadedConfig.Loaded(first, api.identity()), probe.probe(),
                    "a lagging apiserver still serves the previous config");
            api.setLag(Duration.ZERO);
            LoadedConfig.Loaded second = new LoadedConfig.Loaded(hashOf(file), api.identity());
            assertEquals(second, await(probe, second::equals));
        }
    }

    @Test
    void anApiserverOfAnotherHostIsNeverTakenForThisOne() throws Exception {
        Path file = writeConfig(tmp.resolve("encryption-config.json"));
        try (SimulatedApiserver api = SimulatedApiserver.start(file, Mode.LAST_CONFIG_INFO, "node-1")) {
            LoadedConfig other = new HttpApiserverProbe(endpoint(api, Optional.empty()),
                    ApiserverIdentity.ofHostname("node-3")).probe();
            assertInstanceOf(LoadedConfig.Unknown.class, other);
            assertEquals(Optional.of(ApiserverIdentity.ofHostname("node-1").idHash()),
                    ((LoadedConfig.Unknown) other).answeredBy());
        }
    }

    @Test
    void aWrongTokenIsUnknownNamingTheTokenFileButNeverTheTokenAndARotatedFileIsReadAtTheNextProbe() throws Exception {
        Path file = writeConfig(tmp.resolve("encryption-config.json"));
        String good = "good-token-" + System.nanoTime();
        String wrong = "wrong-token-" + System.nanoTime();
        Path tokenFile = tmp.resolve("token");
        Files.writeString(tokenFile, wrong + "\n");
        try (SimulatedApiserver api = SimulatedApiserver.start(file, Mode.LAST_CONFIG_INFO)) {
            api.requireToken(good);
            HttpApiserverProbe probe = probe(api, Optional.of(tokenFile));
            LoadedConfig refused = probe.probe();
            assertInstanceOf(LoadedConfig.Unknown.class, refused);
            assertTrue(why(refused).contains("401 Unauthorized") && why(refused).contains(tokenFile.toString()),
                    why(refused));
            assertFalse(why(refused).contains(wrong) || why(refused).contains(good), why(refused));

            Files.writeString(tokenFile, good + "\n");
            assertEquals(new LoadedConfig.Loaded(hashOf(file), api.identity()), probe.probe());

            LoadedConfig noToken = probe(api, Optional.empty()).probe();
            assertTrue(why(noToken).contains("with no credentials") && why(noToken).contains("--apiserver-token-file"),
                    why(noToken));
        }
    }

    @Test
    void anUnreachableApiserverIsUnknownSayingConnectionRefused() throws Exception {
        Path file = writeConfig(tmp.resolve("encryption-config.json"));
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        HttpApiserverProbe probe = new HttpApiserverProbe(new ApiserverEndpoint(URI.create("https://127.0.0.1:" + port),
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty()), VM);
        LoadedConfig r = probe.probe();
        assertInstanceOf(LoadedConfig.Unknown.class, r);
        assertTrue(why(r).startsWith("cannot connect to kube-apiserver at https://127.0.0.1:" + port + " (connection refused)"),
                why(r));
    }

    @Test
    void aServingCertificateFromAnUntrustedCaIsUnknownAskingForTheCaFile() throws Exception {
        Path file = writeConfig(tmp.resolve("encryption-config.json"));
        try (SimulatedApiserver api = SimulatedApiserver.start(file, Mode.LAST_CONFIG_INFO)) {
            HttpApiserverProbe probe = new HttpApiserverProbe(new ApiserverEndpoint(api.url(), Optional.empty(),
                    Optional.empty(), Optional.empty(), Optional.empty()), api.identity());
            LoadedConfig r = probe.probe();
            assertInstanceOf(LoadedConfig.Unknown.class, r);
            assertTrue(why(r).startsWith("TLS with kube-apiserver at " + api.url() + " failed"), why(r));
            assertTrue(why(r).contains("--apiserver-cacert"), why(r));
        }
    }

    @Test
    void aClientCertificateIsReadInEveryPemKeyFormAndAKeyThatIsNotOneIsRefusedNamingIt() throws Exception {
        Path file = writeConfig(tmp.resolve("encryption-config.json"));
        Instant now = Instant.now();
        Pki.Issued ca = Pki.ca("CN=client-ca", now.minusSeconds(60), now.plusSeconds(3600));
        Pki.Issued client = Pki.leaf(ca, "CN=agent", now.minusSeconds(60), now.plusSeconds(3600));
        Path cert = Files.writeString(tmp.resolve("client.crt"), client.certPem());
        Path pkcs8 = Files.writeString(tmp.resolve("client.key"), client.keyPem());
        // SEC1 as k3s and rke2 write it (openssl's, with the curve named in the key)
        Path sec1 = tmp.resolve("client-sec1.key");
        Process p = new ProcessBuilder("openssl", "ec", "-in", pkcs8.toString(), "-out", sec1.toString())
                .redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        assertEquals(0, p.waitFor());
        assertTrue(Files.readString(sec1).startsWith("-----BEGIN EC PRIVATE KEY-----"), Files.readString(sec1));
        Path notAKey = Files.writeString(tmp.resolve("not-a.key"), "hello\n");
        try (SimulatedApiserver api = SimulatedApiserver.start(file, Mode.LAST_CONFIG_INFO)) {
            for (Path key : new Path[] {sec1, pkcs8}) {
                HttpApiserverProbe probe = new HttpApiserverProbe(new ApiserverEndpoint(api.url(), Optional.of(api.caFile()),
                        Optional.empty(), Optional.of(cert), Optional.of(key)), api.identity());
                assertInstanceOf(LoadedConfig.Loaded.class, probe.probe(), key.toString());
            }
            CommandRefused refused = assertThrows(CommandRefused.class, () -> new HttpApiserverProbe(new ApiserverEndpoint(
                    api.url(), Optional.of(api.caFile()), Optional.empty(), Optional.of(cert), Optional.of(notAKey)),
                    api.identity()));
            assertTrue(refused.getMessage().contains(notAKey + " (--apiserver-key) holds no PEM private key"),
                    refused.getMessage());
        }
    }

    // ---- helpers ----

    static MetricsText realPage(Predicate<String> keep) throws IOException {
        return MetricsText.parse(Files.readAllLines(REAL_PAGE, StandardCharsets.UTF_8).stream().filter(keep)
                .collect(Collectors.joining("\n")));
    }

    static ConfigHash hashOf(Path file) throws IOException {
        return ConfigHash.ofFile(Files.readAllBytes(file));
    }

    static Path writeConfig(Path file) throws IOException {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        Files.writeString(file, "{\"kind\":\"EncryptionConfiguration\",\"apiVersion\":\"apiserver.config.k8s.io/v1\","
                + "\"resources\":[{\"resources\":[\"secrets\"],\"providers\":[{\"aescbc\":{\"keys\":[{\"name\":\"k\","
                + "\"secret\":\"" + Base64.getEncoder().encodeToString(key) + "\"}]}},{\"identity\":{}}]}]}\n");
        return file;
    }

    static ApiserverEndpoint endpoint(SimulatedApiserver api, Optional<Path> tokenFile) {
        return new ApiserverEndpoint(api.url(), Optional.of(api.caFile()), tokenFile, Optional.empty(), Optional.empty());
    }

    static HttpApiserverProbe probe(SimulatedApiserver api, Optional<Path> tokenFile) {
        return new HttpApiserverProbe(endpoint(api, tokenFile), api.identity());
    }

    static LoadedConfig await(HttpApiserverProbe probe, Predicate<LoadedConfig> done) {
        return Await.until(Duration.ofSeconds(15), "the probe's answer", () -> Optional.of(probe.probe()).filter(done));
    }

    static String why(LoadedConfig r) {
        return r instanceof LoadedConfig.Unknown u ? u.why() : r.toString();
    }
}
