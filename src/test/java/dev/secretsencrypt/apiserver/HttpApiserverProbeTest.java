package dev.secretsencrypt.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.apiserver.LoadedConfig.Evidence;
import dev.secretsencrypt.certs.TestPki;
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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HttpApiserverProbeTest {
    static final Path REAL_PAGE = Path.of("testdata", "apiserver-metrics", "kube-apiserver-v1.37.2-after-a-failed-reload.txt");
    // what that page's apiserver said, and when (see testdata/apiserver-metrics/README.md)
    static final String REAL_LOADED = "fda5f3c70041a3872ffd4c6e8e86dc9f37e95e25df2bda6795975be0bb399a9c";
    static final double REAL_SUCCESS = 1.7960344076251714e+09;
    static final double REAL_FAILURE = 1.7960344677837257e+09;
    static final double REAL_START = 1.79603434547e+09;
    static final LoadedConfigHash ANY = new LoadedConfigHash("ab".repeat(32));

    @TempDir
    Path tmp;

    // ---- the rules, on kube-apiserver v1.37.2's own page ----

    @Test
    void lastConfigInfoNamesTheConfigKubeApiserverServesEvenAfterAFailedReload() throws IOException {
        MetricsText page = realPage(l -> true);
        LoadedConfig seen = HttpApiserverProbe.judge(page, seen(ANY, REAL_FAILURE + 10), "it",
                HttpApiserverProbe.Observed.of(page));
        assertEquals(new LoadedConfig.Loaded(new LoadedConfigHash(REAL_LOADED), Evidence.LAST_CONFIG_INFO), seen);
    }

    @Test
    void twoLastConfigInfoSamplesAreNoOneApiserversAnswer() throws IOException {
        MetricsText page = MetricsText.parse(LastConfigInfo.METRIC + "{apiserver_id_hash=\"sha256:1\",hash=\"sha256:"
                + "ab".repeat(32) + "\"} 1\n" + LastConfigInfo.METRIC + "{apiserver_id_hash=\"sha256:2\",hash=\"sha256:"
                + "cd".repeat(32) + "\"} 1\n");
        LoadedConfig two = HttpApiserverProbe.judge(page, seen(ANY, 0), "it", HttpApiserverProbe.Observed.of(page));
        assertInstanceOf(LoadedConfig.Unknown.class, two);
        assertTrue(why(two).contains("not a load balancer"), why(two));
    }

    @Test
    void olderReleasesCountAReloadOnlyIfTheCounterMovedSinceTheFileWasFirstSeenWhateverItsTimestampSays()
            throws IOException {
        // 1.30-1.33: the same page without last_config_info, and before the broken file was written
        MetricsText page = realPage(l -> !l.contains("last_config_info") && !l.contains("failure"));
        HttpApiserverProbe.Observed now = HttpApiserverProbe.Observed.of(page);
        HttpApiserverProbe.Observed oneReloadAgo = new HttpApiserverProbe.Observed(now.started(),
                now.successes() - 1, now.failures(), true);
        assertEquals(new LoadedConfig.Loaded(ANY, Evidence.RELOADED_AFTER_WRITE),
                HttpApiserverProbe.judge(page, seen(ANY, REAL_SUCCESS + 3600), "it", oneReloadAgo));
        // its reload stamped an hour after the write (a clock stepped back, another host) proves nothing by itself
        LoadedConfig same = HttpApiserverProbe.judge(page, seen(ANY, REAL_SUCCESS - 3600), "it", now);
        assertInstanceOf(LoadedConfig.NotYet.class, same);
        assertTrue(why(same).contains("polls the file about once a minute"), why(same));
    }

    @Test
    void olderReleasesSayAFailedReloadSinceTheFileWasFirstSeenIsNotLoaded() throws IOException {
        MetricsText page = realPage(l -> !l.contains("last_config_info"));
        HttpApiserverProbe.Observed now = HttpApiserverProbe.Observed.of(page);
        LoadedConfig failed = HttpApiserverProbe.judge(page, seen(ANY, REAL_FAILURE - 20), "kube-apiserver at X",
                new HttpApiserverProbe.Observed(now.started(), now.successes(), now.failures() - 1, true));
        assertInstanceOf(LoadedConfig.NotYet.class, failed);
        assertTrue(why(failed).startsWith("kube-apiserver at X failed to reload its encryption config since this "
                + "file"), why(failed));
        assertTrue(why(failed).contains("see its log"), why(failed));
    }

    @Test
    void withoutReloadMetricsOnlyARestartSinceTheFileWasFirstSeenIsALoad() throws IOException {
        MetricsText page = realPage(l -> !l.contains("encryption_config_controller"));
        HttpApiserverProbe.Observed now = HttpApiserverProbe.Observed.of(page);
        assertEquals(new LoadedConfig.Loaded(ANY, Evidence.STARTED_AFTER_WRITE), HttpApiserverProbe.judge(page,
                seen(ANY, REAL_START + 60), "it", new HttpApiserverProbe.Observed(
                        java.util.OptionalDouble.of(REAL_START - 600), 0, 0, false)));
        // started "after" the write by its clock, but the same process as when the file was first seen
        LoadedConfig same = HttpApiserverProbe.judge(page, seen(ANY, REAL_START - 60), "it", now);
        assertInstanceOf(LoadedConfig.NotYet.class, same);
        assertTrue(why(same).contains("restart kube-apiserver"), why(same));
    }

    @Test
    void aPageWithNoneOfTheMetricsSaysNothingUsable() {
        MetricsText page = MetricsText.parse("go_goroutines 12\n");
        LoadedConfig none = HttpApiserverProbe.judge(page, seen(ANY, 0), "it", HttpApiserverProbe.Observed.of(page));
        assertInstanceOf(LoadedConfig.Unknown.class, none);
        assertTrue(why(none).contains("check that --apiserver-url"), why(none));
    }

    // ---- over HTTPS, against a simulated kube-apiserver in each mode ----

    @Test
    void newerReleasesReportTheLoadedHashAndALaggingOneStillTheOldOneUntilItCatchesUp() throws Exception {
        Path file = writeConfig(tmp.resolve("encryption-config.json"));
        try (SimulatedApiserver api = SimulatedApiserver.start(file, Mode.LAST_CONFIG_INFO)) {
            HttpApiserverProbe probe = probe(api, Optional.empty());
            LoadedConfigHash first = seen(file).hash();
            assertEquals(new LoadedConfig.Loaded(first, Evidence.LAST_CONFIG_INFO), probe.probe(seen(file)));

            api.setLag(Duration.ofMinutes(5));
            writeConfig(file);
            sleep(600);
            assertEquals(new LoadedConfig.Loaded(first, Evidence.LAST_CONFIG_INFO), probe.probe(seen(file)),
                    "a lagging apiserver still serves the previous config");
            api.setLag(Duration.ZERO);
            LoadedConfig.Loaded second = new LoadedConfig.Loaded(seen(file).hash(), Evidence.LAST_CONFIG_INFO);
            assertEquals(second, await(probe, file, second::equals));
        }
    }

    @Test
    void olderReleasesWithAutomaticReloadAreNotYetUntilTheyReloadAndThenLoadedAfterTheWrite() throws Exception {
        Path file = writeConfig(tmp.resolve("encryption-config.json"));
        try (SimulatedApiserver api = SimulatedApiserver.start(file, Mode.RELOAD_COUNTERS)) {
            HttpApiserverProbe probe = probe(api, Optional.empty());
            api.setLag(Duration.ofMinutes(5));
            sleep(1100);
            writeConfig(file);
            LoadedConfig lagging = probe.probe(seen(file));
            assertInstanceOf(LoadedConfig.NotYet.class, lagging);
            assertTrue(why(lagging).contains("reported an automatic reload since this file"), why(lagging));

            api.setLag(Duration.ofSeconds(2));
            LoadedConfig reloaded = await(probe, file, r -> r instanceof LoadedConfig.Loaded);
            assertEquals(new LoadedConfig.Loaded(seen(file).hash(), Evidence.RELOADED_AFTER_WRITE), reloaded);
        }
    }

    @Test
    void aReloadThatFailedAfterTheWriteIsNotYetAndSaysToReadTheApiserversLog() throws Exception {
        Path file = writeConfig(tmp.resolve("encryption-config.json"));
        try (SimulatedApiserver api = SimulatedApiserver.start(file, Mode.RELOAD_COUNTERS)) {
            HttpApiserverProbe probe = probe(api, Optional.empty());
            Files.writeString(file, "{\"kind\":\"EncryptionConfiguration\",");
            LoadedConfig failed = await(probe, file, r -> why(r).contains("failed to reload"));
            assertInstanceOf(LoadedConfig.NotYet.class, failed);
            assertTrue(why(failed).contains("see its log"), why(failed));
        }
    }

    @Test
    void withoutAutomaticReloadOnlyARestartAfterTheWriteLoadsTheFile() throws Exception {
        Path file = writeConfig(tmp.resolve("encryption-config.json"));
        try (SimulatedApiserver api = SimulatedApiserver.start(file, Mode.RESTART_ONLY)) {
            HttpApiserverProbe probe = probe(api, Optional.empty());
            sleep(1100);
            writeConfig(file);
            sleep(600);
            LoadedConfig before = probe.probe(seen(file));
            assertInstanceOf(LoadedConfig.NotYet.class, before);
            assertTrue(why(before).contains("restart kube-apiserver"), why(before));
            sleep(1100);
            api.restart();
            assertEquals(new LoadedConfig.Loaded(seen(file).hash(), Evidence.STARTED_AFTER_WRITE), probe.probe(seen(file)));
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
            LoadedConfig refused = probe.probe(seen(file));
            assertInstanceOf(LoadedConfig.Unknown.class, refused);
            assertTrue(why(refused).contains("401 Unauthorized") && why(refused).contains(tokenFile.toString()),
                    why(refused));
            assertFalse(why(refused).contains(wrong) || why(refused).contains(good), why(refused));

            Files.writeString(tokenFile, good + "\n");
            assertEquals(new LoadedConfig.Loaded(seen(file).hash(), Evidence.LAST_CONFIG_INFO), probe.probe(seen(file)));

            LoadedConfig noToken = probe(api, Optional.empty()).probe(seen(file));
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
                Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty()));
        LoadedConfig r = probe.probe(seen(file));
        assertInstanceOf(LoadedConfig.Unknown.class, r);
        assertTrue(why(r).startsWith("cannot connect to kube-apiserver at https://127.0.0.1:" + port + " (connection refused)"),
                why(r));
    }

    @Test
    void aServingCertificateFromAnUntrustedCaIsUnknownAskingForTheCaFile() throws Exception {
        Path file = writeConfig(tmp.resolve("encryption-config.json"));
        try (SimulatedApiserver api = SimulatedApiserver.start(file, Mode.LAST_CONFIG_INFO)) {
            HttpApiserverProbe probe = new HttpApiserverProbe(new ApiserverEndpoint(api.url(), Optional.empty(),
                    Optional.empty(), Optional.empty(), Optional.empty()));
            LoadedConfig r = probe.probe(seen(file));
            assertInstanceOf(LoadedConfig.Unknown.class, r);
            assertTrue(why(r).startsWith("TLS with kube-apiserver at " + api.url() + " failed"), why(r));
            assertTrue(why(r).contains("--apiserver-cacert"), why(r));
        }
    }

    @Test
    void aClientCertificateIsReadInEveryPemKeyFormAndAKeyThatIsNotOneIsRefusedNamingIt() throws Exception {
        Path file = writeConfig(tmp.resolve("encryption-config.json"));
        Instant now = Instant.now();
        TestPki.Issued ca = TestPki.ca("CN=client-ca", now.minusSeconds(60), now.plusSeconds(3600));
        TestPki.Issued client = TestPki.leaf(ca, "CN=agent", now.minusSeconds(60), now.plusSeconds(3600));
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
                        Optional.empty(), Optional.of(cert), Optional.of(key)));
                assertInstanceOf(LoadedConfig.Loaded.class, probe.probe(seen(file)), key.toString());
            }
            CommandRefused refused = assertThrows(CommandRefused.class, () -> new HttpApiserverProbe(new ApiserverEndpoint(
                    api.url(), Optional.of(api.caFile()), Optional.empty(), Optional.of(cert), Optional.of(notAKey))));
            assertTrue(refused.getMessage().contains(notAKey + " (--apiserver-key) holds no PEM private key"),
                    refused.getMessage());
        }
    }

    // ---- helpers ----

    static MetricsText realPage(Predicate<String> keep) throws IOException {
        return MetricsText.parse(Files.readAllLines(REAL_PAGE, StandardCharsets.UTF_8).stream().filter(keep)
                .collect(Collectors.joining("\n")));
    }

    static ConfigFileSeen seen(LoadedConfigHash hash, double epochSeconds) {
        long nanos = Math.round(epochSeconds * 1e9);
        return new ConfigFileSeen(hash, Instant.ofEpochSecond(0, nanos));
    }

    /** The file as the agent sees it: its digest and its modification time. */
    static ConfigFileSeen seen(Path file) throws IOException {
        return new ConfigFileSeen(LoadedConfigHash.ofFile(Files.readAllBytes(file)),
                Files.getLastModifiedTime(file).toInstant());
    }

    static Path writeConfig(Path file) throws IOException {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        Files.writeString(file, "{\"kind\":\"EncryptionConfiguration\",\"apiVersion\":\"apiserver.config.k8s.io/v1\","
                + "\"resources\":[{\"resources\":[\"secrets\"],\"providers\":[{\"aescbc\":{\"keys\":[{\"name\":\"k\","
                + "\"secret\":\"" + Base64.getEncoder().encodeToString(key) + "\"}]}},{\"identity\":{}}]}]}\n");
        return file;
    }

    static HttpApiserverProbe probe(SimulatedApiserver api, Optional<Path> tokenFile) {
        return new HttpApiserverProbe(new ApiserverEndpoint(api.url(), Optional.of(api.caFile()), tokenFile,
                Optional.empty(), Optional.empty()));
    }

    static LoadedConfig await(HttpApiserverProbe probe, Path file, Predicate<LoadedConfig> done) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        LoadedConfig last;
        do {
            last = probe.probe(seen(file));
            if (done.test(last)) {
                return last;
            }
            sleep(200);
        } while (System.nanoTime() < deadline);
        throw new AssertionError("still " + last + " after 15 s");
    }

    static String why(LoadedConfig r) {
        if (r instanceof LoadedConfig.NotYet n) {
            return n.why();
        }
        return r instanceof LoadedConfig.Unknown u ? u.why() : r.toString();
    }

    static void sleep(long millis) throws InterruptedException {
        Thread.sleep(millis);
    }
}
