package dev.secretsencrypt.e2e;

import dev.secretsencrypt.config.ConfigHash;
import dev.secretsencrypt.testing.ChildJvm;
import dev.secretsencrypt.testing.Await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.apiserver.ApiserverEndpoint;
import dev.secretsencrypt.apiserver.ApiserverIdentity;
import dev.secretsencrypt.apiserver.IdentityLease;
import dev.secretsencrypt.testing.LoopbackBalancer;
import java.net.URI;
import java.net.http.HttpResponse;
import dev.secretsencrypt.apiserver.HttpApiserverProbe;
import dev.secretsencrypt.apiserver.LastConfigInfo;
import dev.secretsencrypt.apiserver.LoadedConfig;
import dev.secretsencrypt.testing.Pki;
import dev.secretsencrypt.cli.Main;
import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.envelope.ProviderChain;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The tool against real kube-apiservers: complete rotations while the apiservers read and write, reloads
 * checked through {@code apiserver_encryption_config_controller_last_config_info}. Written once against
 * {@link ControlPlane}; each subclass says where the servers run. Progress lines start with {@code [e2e]}.
 */
@Tag("e2e")
abstract class RotationScenarios {
    static final String NS = "e2e";
    // kube-apiserver polls its file once a minute; a reload is due within that, plus start-up slack.
    static final Duration RELOAD_TIMEOUT = Duration.ofSeconds(150);

    @TempDir
    Path tmp;
    ControlPlane plane;
    String scenario = "";

    /** A control plane of {@code servers} apiservers under {@code root}, its datastore running, servers not started. */
    abstract ControlPlane controlPlane(Path root, int servers);

    @AfterEach
    void stopControlPlane() {
        if (plane != null) {
            plane.close();
        }
    }

    @Test
    void oneServerRotatesWhileTheApiserverReadsAndWritesAndEverySecretReadsBackIdentical() throws Exception {
        // Reloads by restart, as the runbook's `systemctl restart`; scenario 2 waits for the automatic reload.
        restartToReload = true;
        start("one server", 1);
        ApiServer s = plane.servers().get(0);
        Map<String, Map<String, String>> secrets = createSecrets(20, "s");
        Map<String, Map<String, String>> configMaps = createConfigMaps(3);
        // certs reads what kube-apiserver stored, decrypted: one TLS Secret about to expire, one healthy
        Instant now = Instant.now();
        Pki.Issued ca = Pki.ca("CN=e2e-ca", now.minus(Duration.ofDays(10)), now.plus(Duration.ofDays(3650)));
        Pki.Issued expiring = Pki.leaf(ca, "CN=expiring.e2e", now.minus(Duration.ofDays(80)),
                now.plus(Duration.ofDays(5)), "expiring.e2e");
        Pki.Issued healthy = Pki.leaf(ca, "CN=healthy.e2e", now.minus(Duration.ofDays(1)),
                now.plus(Duration.ofDays(300)), "healthy.e2e");
        s.api().createTlsSecret(NS, "expiring-tls", Pki.pem(expiring.cert()), Pki.pem(expiring.keys().getPrivate()));
        s.api().createTlsSecret(NS, "healthy-tls", Pki.pem(healthy.cert()), Pki.pem(healthy.keys().getPrivate()));
        secrets.put("expiring-tls", s.api().secret(NS, "expiring-tls"));
        secrets.put("healthy-tls", s.api().secret(NS, "healthy-tls"));
        assertEverySecretAndConfigMapUnder(writer(s));

        step("prepare", s);
        step("rotate", s);
        Envelope rotatedTo = writer(s);
        Map<String, Map<String, String>> afterRotate = createSecrets(5, "after-rotate");
        assertStoredUnder(rotatedTo, afterRotate.keySet(), "written by kube-apiserver after rotate");
        secrets.putAll(afterRotate);

        ToolRun reencrypt = tool(s, "reencrypt");
        assertEquals(0, reencrypt.exitCode(), reencrypt.all());
        assertTrue(reencrypt.out().contains("retired aescbc/aescbckey"), reencrypt.out());
        reloadEverywhere("reencrypt_finished");

        assertEverySecretReadsBack(secrets);
        assertEveryConfigMapReadsBack(configMaps);
        Map<String, Integer> stored = assertEverySecretAndConfigMapUnder(rotatedTo);
        ToolRun verify = tool(s, "verify");
        assertEquals(0, verify.exitCode(), verify.all());
        ToolRun certs = tool(s, "certs", "--host-root", Files.createDirectories(tmp.resolve("empty-host")).toString());
        assertEquals(1, certs.exitCode(), certs.all());
        assertTrue(certs.out().lines().anyMatch(l -> l.startsWith("expiring") && l.contains(NS + "/expiring-tls tls.crt")
                && l.contains("CN=expiring.e2e")), certs.out());
        assertTrue(certs.out().lines().anyMatch(l -> l.startsWith("ok") && l.contains(NS + "/healthy-tls tls.crt")),
                certs.out());
        assertFalse(certs.all().contains("PRIVATE KEY"), "certs never prints a private key");
        log("certs over the Secrets kube-apiserver stored: %s", certs.out().lines().filter(l -> l.contains("-tls "))
                .toList());
        log("%d Secrets and %d ConfigMaps read back identical; every stored Secret and ConfigMap (per namespace: %s) under %s; verify: %s",
                secrets.size(), configMaps.size(), stored, rotatedTo.description(),
                verify.out().lines().filter(l -> l.startsWith("Unreadable")).findFirst().orElse(""));
    }

    @Test
    void threeApiserversReportTheToolsHashAfterEveryStepAndReadEverySecretWrittenDuringReencrypt() throws Exception {
        start("three apiservers", 3);
        List<ApiServer> servers = plane.servers();
        Map<String, Map<String, String>> secrets = new ConcurrentHashMap<>(createSecrets(30, "s"));
        Map<String, Map<String, String>> configMaps = createConfigMaps(3);

        step("prepare", servers.get(0));
        step("rotate", servers.get(1));
        Envelope rotatedTo = writer(servers.get(0));

        // Creates and updates Secrets through all three apiservers, round robin, until told to stop.
        AtomicBoolean stop = new AtomicBoolean();
        AtomicReference<Throwable> writerFailure = new AtomicReference<>();
        AtomicInteger writes = new AtomicInteger();
        List<Long> writeTimes = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread writer = new Thread(() -> {
            try {
                for (int i = 0; !stop.get(); i++) {
                    ApiServer via = servers.get(i % servers.size());
                    if (i % 2 == 0) {
                        String name = "during-" + i;
                        Map<String, String> data = secretData(name);
                        via.api().createSecret(NS, name, data);
                        secrets.put(name, data);
                    } else {
                        String name = "s-" + (i / 2) % 30;
                        Map<String, String> data = secretData(name + "-v" + i);
                        via.api().updateSecret(NS, name, data);
                        secrets.put(name, data);
                    }
                    writes.incrementAndGet();
                    writeTimes.add(System.nanoTime());
                }
            } catch (Throwable t) {
                writerFailure.set(t);
            }
        }, "e2e-writer");
        writer.start();
        Thread.sleep(500); // the point: the apiservers are writing before the pass begins
        long passStart = System.nanoTime();
        ToolRun reencrypt = tool(servers.get(2), "reencrypt");
        long passEnd = System.nanoTime();
        Thread.sleep(500); // the point: and go on writing after it ends
        stop.set(true);
        writer.join(TimeUnit.SECONDS.toMillis(60));
        assertEquals(null, writerFailure.get(), "the API writer failed");
        assertEquals(0, reencrypt.exitCode(), reencrypt.all());
        long during = writeTimes.stream().filter(t -> t >= passStart && t <= passEnd).count();
        log("reencrypt on node-3 while the API writer ran: %s", reencrypt.out().lines().reduce((a, b) -> b).orElse(""));
        log("API writes through node-1..3: %d in all, %d of them completed while reencrypt ran (%d ms)",
                writes.get(), during, TimeUnit.NANOSECONDS.toMillis(passEnd - passStart));
        assertTrue(during > 0, "no API write completed while reencrypt ran");
        reloadEverywhere("reencrypt_finished");

        for (ApiServer via : servers) {
            assertEverySecretReadsBack(secrets, via);
            assertEveryConfigMapReadsBack(configMaps, via);
        }
        assertEverySecretAndConfigMapUnder(rotatedTo);
        log("%d Secrets and %d ConfigMaps read back identical through each of node-1, node-2, node-3; every stored value under %s",
                secrets.size(), configMaps.size(), rotatedTo.description());
    }

    @Test
    void aescbcAesgcmAndSecretboxKeysRotateIntoEachOtherAndKubeApiserverReadsWhatTheToolWrote() throws Exception {
        // Six reloads: restarts keep this near a minute; scenario 2 proves the automatic reload.
        restartToReload = true;
        start("every provider", 1);
        ApiServer s = plane.servers().get(0);
        Map<String, Map<String, String>> secrets = createSecrets(10, "s");
        Map<String, Map<String, String>> configMaps = createConfigMaps(2);
        for (String provider : List.of("aesgcm", "secretbox", "aescbc")) {
            Envelope from = writer(s);
            step("prepare", s, "--provider", provider);
            step("rotate", s);
            Envelope to = writer(s);
            assertTrue(to.description().startsWith(provider + "/"), to.description());
            Map<String, Map<String, String>> written = createSecrets(3, "under-" + provider);
            assertStoredUnder(to, written.keySet(), "written by kube-apiserver with " + provider);
            secrets.putAll(written);

            ToolRun reencrypt = tool(s, "reencrypt");
            assertEquals(0, reencrypt.exitCode(), reencrypt.all());
            assertTrue(reencrypt.out().contains("retired " + from.description()), reencrypt.out());
            assertEverySecretAndConfigMapUnder(to);
            assertEverySecretReadsBack(secrets);
            assertEveryConfigMapReadsBack(configMaps);
            log("%s -> %s: every stored value re-encrypted under %s and read back through kube-apiserver (%d Secrets, %d ConfigMaps)",
                    from.description(), to.description(), to.description(), secrets.size(), configMaps.size());
        }
    }

    @Test
    void rotateKeysWithAnAgentOnEachOfThreeApiserversNeedsNoRestartAndAReaderOfEverySecretNeverFails() throws Exception {
        start("rotate-keys with agents", 3);
        List<ApiServer> servers = plane.servers();
        org.junit.jupiter.api.Assumptions.assumeTrue(plane.apiserverEndpoint(servers.get(0)).isPresent(),
                "this control plane does not give the agent its apiservers' metrics");
        Map<String, Map<String, String>> secrets = createSecrets(60, "s");
        Envelope before = writer(servers.get(0));
        assertIdentitiesAsTheToolDerivesThem(servers);
        List<Process> agents = new ArrayList<>();
        List<Integer> metricsPorts = new ArrayList<>();
        for (ApiServer s : servers) {
            int port;
            try (java.net.ServerSocket free = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                port = free.getLocalPort();
            }
            metricsPorts.add(port);
        }
        // node-3's agent is first given a load balancer on 127.0.0.1 in front of all three apiservers (as K3s' and
        // RKE2's client load balancer, or a local haproxy): no answer through it may count for node-3
        ApiServer third = servers.get(2);
        List<Integer> apiserverPorts = servers.stream().map(x -> x.api().base().getPort()).toList();
        try (LoopbackBalancer balancer = LoopbackBalancer.over(apiserverPorts)) {
            for (ApiServer s : servers) {
                URI url = s == third ? balancer.url() : plane.apiserverEndpoint(s).orElseThrow().url();
                agents.add(startAgent(s, url, metricsPorts.get(servers.indexOf(s)), s.nodeName() + "-agent.log"));
            }
            String said = awaitLogLine(tmp.resolve("node-3-agent.log"), "answered as another kube-apiserver");
            log("node-3's agent through a load balancer on 127.0.0.1:%n%s", said);
            HttpResponse<String> health = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest
                    .newBuilder(URI.create("http://127.0.0.1:" + metricsPorts.get(2) + "/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString());
            log("its /healthz: %d %s", health.statusCode(), health.body());
            assertEquals(503, health.statusCode(), health.body());
            assertTrue(health.body().contains("answered as another kube-apiserver"), health.body());
            awaitAgentReports(servers.subList(0, 2));
            ToolRun held = tool(servers.get(0), "rotate-keys", "--timeout", "30s");
            log("rotate-keys while node-3's agent reads a load balancer:%n%s%s", held.out(), held.err());
            assertEquals(1, held.exitCode(), held.all());
            assertTrue(held.err().contains("node-3 did not load it: the agent on node-3 cannot report: kube-apiserver at "
                    + balancer.url() + " answered as another kube-apiserver"), held.err());
            assertFalse(Files.readString(tmp.resolve("node-3-agent.log")).contains("reported node-3"),
                    "a report through the load balancer");
            Process lb = agents.remove(2);
            lb.destroy();
            lb.waitFor(30, TimeUnit.SECONDS);
        }
        // its agent stopped, its kube-apiserver runs: node-3 cannot be forgotten (its identity lease is renewed)
        ToolRun forget = tool(servers.get(0), "nodes", "forget", "node-3");
        log("nodes forget node-3 while its kube-apiserver runs:%n%s", forget.err());
        assertEquals(1, forget.exitCode(), forget.all());
        assertTrue(forget.err().contains("the kube-apiserver of node-3 still runs: its identity lease "
                + ApiserverIdentity.ofHostname("node-3").leaseName() + " (host node-3) is still renewed"), forget.err());
        agents.add(startAgent(third, plane.apiserverEndpoint(third).orElseThrow().url(), metricsPorts.get(2),
                "node-3-agent-own-url.log"));
        // Reads every Secret through every apiserver, round after round, for the whole rotation.
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger reads = new AtomicInteger();
        List<String> failures = java.util.Collections.synchronizedList(new ArrayList<>());
        Thread reader = new Thread(() -> {
            while (!stop.get()) {
                for (ApiServer via : servers) {
                    for (Map.Entry<String, Map<String, String>> e : secrets.entrySet()) {
                        try {
                            Map<String, String> got = via.api().secret(NS, e.getKey());
                            if (!got.equals(e.getValue())) {
                                failures.add(via.nodeName() + " " + e.getKey() + ": other data");
                            }
                        } catch (RuntimeException | AssertionError failed) {
                            failures.add(via.nodeName() + " " + e.getKey() + ": " + failed.getMessage());
                        }
                        reads.incrementAndGet();
                    }
                }
            }
        }, "e2e-reader");
        try {
            awaitAgentReports(servers);
            reader.start();
            long t0 = System.nanoTime();
            ToolRun rotated = tool(servers.get(0), "rotate-keys", "--timeout", "5m");
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
            Thread.sleep(2000); // the point: the reader goes on through every apiserver after the last step
            stop.set(true);
            reader.join(TimeUnit.SECONDS.toMillis(60));
            log("rotate-keys on node-1 with an agent on each server, no restart (%d s):%n%s%s", seconds, rotated.out(),
                    rotated.err());
            log("reader: %d reads of %d Secrets through node-1..3 during the rotation, %d failed", reads.get(),
                    secrets.size(), failures.size());
            assertEquals(0, rotated.exitCode(), rotated.all());
            assertTrue(rotated.out().contains("rotate-keys done: every server loaded the final config"), rotated.out());
            assertEquals(List.of(), failures, "reads that failed during the rotation");
            assertTrue(reads.get() >= secrets.size() * servers.size(), "the reader read every Secret at least once");
            Envelope after = writer(servers.get(0));
            assertTrue(!after.description().equals(before.description()), after.description());
            assertEverySecretAndConfigMapUnder(after);
            for (ApiServer via : servers) {
                assertEverySecretReadsBack(secrets, via);
                String info = via.api().metrics().lines().filter(l -> l.startsWith(LastConfigInfo.METRIC + "{"))
                        .findFirst().orElseThrow();
                assertTrue(info.contains(ConfigHash.ofFile(Files.readAllBytes(via.configFile())).label()), info);
            }
            String metrics = new String(java.net.URI.create("http://127.0.0.1:" + metricsPorts.get(0) + "/metrics")
                    .toURL().openStream().readAllBytes(), StandardCharsets.UTF_8);
            log("agent /metrics on node-1 (excerpt):%n%s", metrics.lines().filter(l -> l.startsWith("secrets_encrypt_")
                    && !l.startsWith("secrets_encrypt_certificate")).reduce((a, b) -> a + "\n" + b).orElse(""));
            assertTrue(metrics.contains("secrets_encrypt_stage{stage=\"reencrypt_finished\"} 1.0"), metrics);
        } finally {
            stop.set(true);
            for (Process p : agents) {
                p.destroy(); // SIGTERM, as systemctl stop sends
                p.waitFor(20, TimeUnit.SECONDS);
                p.destroyForcibly();
            }
        }
        for (ApiServer s : servers) {
            String agentLog = Files.readString(tmp.resolve(s.nodeName() + (s == third ? "-agent-own-url.log"
                    : "-agent.log")));
            assertTrue(agentLog.contains("agent stopped on " + s.nodeName()), agentLog);
            assertTrue(agentLog.contains("(from kube-apiserver: last_config_info of "
                    + ApiserverIdentity.ofHostname(s.hostname()) + ")"), agentLog);
        }
    }

    /** An agent for {@code s} in a JVM of its own, reading the apiserver at {@code url}, logging to {@code log}. */
    Process startAgent(ApiServer s, URI url, int metricsPort, String log) throws Exception {
        ApiserverEndpoint api = plane.apiserverEndpoint(s).orElseThrow();
        List<String> args = new ArrayList<>(List.of("agent", "--apiserver-url", url.toString(), "--apiserver-cacert", api.caCert().orElseThrow().toString(),
                "--apiserver-cert", api.clientCert().orElseThrow().toString(), "--apiserver-key",
                api.clientKey().orElseThrow().toString(), "--metrics-address", "127.0.0.1:" + metricsPort));
        args.addAll(toolOptions(s));
        return new ProcessBuilder(ChildJvm.command(args)).redirectErrorStream(true).redirectOutput(tmp.resolve(log).toFile()).start();
    }

    /** The first line of {@code log} that contains {@code text}, waiting at most a minute. */
    static String awaitLogLine(Path log, String text) {
        return Await.until(Duration.ofMinutes(1), "a line with '" + text + "' in " + log, () -> {
            try {
                return Files.readAllLines(log).stream().filter(l -> l.contains(text)).findFirst();
            } catch (java.io.IOException notYet) {
                return Optional.empty();
            }
        }, () -> {
            try {
                return Files.readString(log);
            } catch (java.io.IOException none) {
                return "(no log)";
            }
        });
    }

    /**
     * Each real kube-apiserver runs under its own host name and renews the identity lease the tool derives from it,
     * labelled with that host, and its metrics carry the sha256 of that lease's name as apiserver_id_hash.
     */
    void assertIdentitiesAsTheToolDerivesThem(List<ApiServer> servers) throws Exception {
        for (ApiServer s : servers) {
            ApiserverIdentity identity = ApiserverIdentity.ofHostname(s.hostname());
            String key = "/registry/leases/kube-system/" + identity.leaseName();
            List<KeyValue> got = plane.etcd().getKVClient().get(ByteSequence.from(key, StandardCharsets.UTF_8))
                    .get(10, TimeUnit.SECONDS).getKvs();
            assertEquals(1, got.size(), "no identity lease " + key + " for " + s.nodeName());
            IdentityLease lease = IdentityLease.read(got.get(0).getValue().getBytes()).orElseThrow();
            assertEquals(Optional.of(s.hostname()), lease.hostname());
            String info = s.api().metrics().lines().filter(l -> l.startsWith(LastConfigInfo.METRIC + "{")).findFirst()
                    .orElseThrow();
            assertTrue(info.contains("apiserver_id_hash=\"" + identity.idHash() + "\""), info);
            log("%s: identity lease %s (host %s, renewed %s); metrics apiserver_id_hash %s", s.nodeName(),
                    identity.leaseName(), lease.host(), lease.renewedAt().orElseThrow(), identity.idHash());
        }
    }

    /** Until every server's report comes from its agent reading its apiserver (at most two minutes). */
    void awaitAgentReports(List<ApiServer> servers) {
        AtomicReference<String> last = new AtomicReference<>("");
        ToolRun nodes = Await.until(Duration.ofMinutes(2), "every agent reports from its apiserver", () -> {
            try {
                ToolRun r = tool(servers.get(0), "nodes");
                last.set(r.all());
                return Optional.of(r).filter(x -> x.exitCode() == 0 && x.out().lines().filter(l -> servers.stream()
                        .anyMatch(s -> l.startsWith(s.nodeName() + " "))).filter(l -> l.contains(" apiserver "))
                        .count() == servers.size());
            } catch (Exception notYet) {
                return Optional.empty();
            }
        }, last::get);
        log("every agent reports from its apiserver:%n%s", nodes.out());
    }

    // ---- steps ----

    /** Starts the control plane: the same aescbc config in every data dir, the apiservers, enable, sync. */
    void start(String name, int servers) throws Exception {
        scenario = name;
        plane = controlPlane(tmp.resolve("plane"), servers);
        // In the tool's canonical form, so `enable` adopts it byte for byte and costs no reload.
        byte[] initial = ConfigFiles.canonicalBytes(ConfigFiles.parse(initialConfig(), "the e2e initial config"));
        for (ApiServer s : plane.servers()) {
            Files.write(s.configFile(), initial);
            Files.setPosixFilePermissions(s.configFile(), PosixFilePermissions.fromString("rw-------"));
        }
        long t0 = System.nanoTime();
        plane.startServers();
        log("%s ready in %d s", plane.description(), TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0));
        ToolRun enable = tool(plane.servers().get(0), "enable");
        assertEquals(0, enable.exitCode(), enable.all());
        reloadEverywhere("start");
        plane.servers().get(0).api().ensureNamespace(NS);
    }

    /** A tool step on one server, then every server syncs and is seen to load the result. */
    void step(String command, ApiServer on, String... options) throws Exception {
        List<String> args = new ArrayList<>(List.of(command));
        args.addAll(List.of(options));
        ToolRun r = tool(on, args.toArray(String[]::new));
        assertEquals(0, r.exitCode(), r.all());
        log("%s on %s: exit 0", String.join(" ", args), on.nodeName());
        reloadEverywhere(command);
    }

    /**
     * Every server runs `sync` (writes its file, reports {@code <stage>-<sha256>}); then each kube-apiserver is
     * waited for until its last_config_info names that file, and the tool's reported hash is compared with it.
     */
    void reloadEverywhere(String after) throws Exception {
        for (ApiServer s : plane.servers()) {
            ToolRun sync = tool(s, "sync");
            assertEquals(0, sync.exitCode(), sync.all());
        }
        Map<String, String> toolHashes = reportedHashes(tool(plane.servers().get(0), "status"));
        for (ApiServer s : plane.servers()) {
            ConfigHash file = ConfigHash.ofFile(Files.readAllBytes(s.configFile()));
            long t0 = System.nanoTime();
            String line = awaitLoaded(s, file);
            // the agent's probe, over HTTPS with the client certificate, says the same as the metric line
            Optional<ApiserverEndpoint> endpoint = plane.apiserverEndpoint(s);
            if (endpoint.isPresent()) {
                ApiserverIdentity identity = ApiserverIdentity.ofHostname(s.hostname());
                assertEquals(new LoadedConfig.Loaded(file, identity),
                        new HttpApiserverProbe(endpoint.get(), identity).probe(), "HttpApiserverProbe on " + s.nodeName());
                probesChecked++;
            }
            String reported = toolHashes.get(s.nodeName());
            assertEquals(file.hex(), reported == null ? null : reported.substring(reported.lastIndexOf('-') + 1),
                    "the tool's reported hash for " + s.nodeName());
            log("after %s, %s loaded in %d s: %s | tool: %s %s | probes agreeing so far: %d", after, s.nodeName(),
                    TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0), line, s.nodeName(), reported, probesChecked);
        }
    }

    /** How many times HttpApiserverProbe agreed with a real apiserver's last_config_info, for the test output. */
    int probesChecked;

    /** Waits until the server reports this file in last_config_info (a restart where the plane can); returns the metric line. */
    String awaitLoaded(ApiServer s, ConfigHash file) {
        AtomicBoolean restarted = new AtomicBoolean();
        AtomicReference<String> lastSeen = new AtomicReference<>("(nothing)");
        return Await.until(RELOAD_TIMEOUT, s.nodeName() + " loaded " + file.label(), () -> {
            String metrics = s.api().metrics();
            Optional<LastConfigInfo> info = LastConfigInfo.single(metrics);
            if (info.isPresent() && info.get().hash().equals(file)) {
                return metrics.lines().filter(l -> l.startsWith(LastConfigInfo.METRIC + "{")).findFirst();
            }
            lastSeen.set(metrics.lines().filter(l -> l.startsWith("apiserver_encryption_config_controller_"))
                    .reduce((a, b) -> a + "\n" + b).orElse("(no such metric)"));
            if (restartToReload && !restarted.get()) {
                restarted.set(plane.loadNow(s));
            }
            return Optional.empty();
        }, () -> "its encryption config metrics:\n" + lastSeen.get());
    }

    /**
     * Scenarios 1 and 3 reload by restarting (as an operator's `systemctl restart` does, ~5 s); scenario 2 waits for
     * kube-apiserver's own once-a-minute reload, so the suite proves both and stays near five minutes.
     */
    boolean restartToReload;

    // ---- API data ----

    Map<String, Map<String, String>> createSecrets(int n, String prefix) {
        Map<String, Map<String, String>> created = new TreeMap<>();
        List<ApiServer> servers = plane.servers();
        for (int i = 0; i < n; i++) {
            String name = prefix + "-" + i;
            Map<String, String> data = secretData(name);
            servers.get(i % servers.size()).api().createSecret(NS, name, data);
            created.put(name, data);
        }
        return created;
    }

    Map<String, Map<String, String>> createConfigMaps(int n) {
        Map<String, Map<String, String>> created = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            String name = "cm-" + i;
            Map<String, String> data = Map.of("setting", "value-" + i, "note", "plain configmap " + i);
            plane.servers().get(0).api().createConfigMap(NS, name, data);
            created.put(name, new TreeMap<>(data));
        }
        return created;
    }

    static Map<String, String> secretData(String seed) {
        byte[] random = new byte[24];
        new SecureRandom().nextBytes(random);
        Map<String, String> data = new TreeMap<>();
        data.put("username", "user-" + seed);
        data.put("password", Base64.getEncoder().encodeToString(random));
        return data;
    }

    void assertEverySecretReadsBack(Map<String, Map<String, String>> secrets) {
        for (ApiServer via : plane.servers()) {
            assertEverySecretReadsBack(secrets, via);
        }
    }

    static void assertEverySecretReadsBack(Map<String, Map<String, String>> secrets, ApiServer via) {
        for (Map.Entry<String, Map<String, String>> e : secrets.entrySet()) {
            assertEquals(e.getValue(), via.api().secret(NS, e.getKey()), "secret " + e.getKey() + " through " + via.nodeName());
        }
    }

    void assertEveryConfigMapReadsBack(Map<String, Map<String, String>> configMaps) {
        for (ApiServer via : plane.servers()) {
            assertEveryConfigMapReadsBack(configMaps, via);
        }
    }

    static void assertEveryConfigMapReadsBack(Map<String, Map<String, String>> configMaps, ApiServer via) {
        for (Map.Entry<String, Map<String, String>> e : configMaps.entrySet()) {
            assertEquals(e.getValue(), via.api().configMap(NS, e.getKey()), "configmap " + e.getKey() + " through " + via.nodeName());
        }
    }

    // ---- raw etcd values ----

    /** The key that encrypts now, as the server's file says. */
    static Envelope writer(ApiServer s) throws Exception {
        return ProviderChain.of(ConfigFiles.read(s.configFile()).secretsRule().orElseThrow().providers()).writer();
    }

    /** Every Secret and ConfigMap kube-apiserver stores (ours and its own, every namespace) starts with the key's prefix. */
    /** Returns how many values it checked per namespace. */
    Map<String, Integer> assertEverySecretAndConfigMapUnder(Envelope key) throws Exception {
        Map<String, Integer> perNamespace = new TreeMap<>();
        for (String resource : List.of("/registry/secrets/", "/registry/configmaps/")) {
            for (KeyValue kv : rawValues(resource)) {
                String etcdKey = kv.getKey().toString(StandardCharsets.UTF_8);
                assertTrue(startsWith(kv.getValue().getBytes(), key.prefix()), etcdKey + " is not under " + key.description());
                perNamespace.merge(etcdKey.substring(resource.length()).split("/")[0], 1, Integer::sum);
            }
        }
        assertTrue(!perNamespace.isEmpty(), "no stored Secret or ConfigMap found");
        return perNamespace;
    }

    void assertStoredUnder(Envelope key, Iterable<String> secretNames, String what) throws Exception {
        for (String name : secretNames) {
            List<KeyValue> kvs = rawValues("/registry/secrets/" + NS + "/" + name);
            assertEquals(1, kvs.size(), name);
            assertTrue(startsWith(kvs.get(0).getValue().getBytes(), key.prefix()), name + " " + what + " is not under " + key.description());
        }
    }

    List<KeyValue> rawValues(String prefix) throws Exception {
        return plane.etcd().getKVClient().get(ByteSequence.from(prefix, StandardCharsets.UTF_8),
                GetOption.builder().isPrefix(true).build()).get(30, TimeUnit.SECONDS).getKvs();
    }

    static boolean startsWith(byte[] value, byte[] prefix) {
        return value.length >= prefix.length && java.util.Arrays.equals(value, 0, prefix.length, prefix, 0, prefix.length);
    }

    // ---- the tool, through its command line ----

    record ToolRun(int exitCode, String out, String err) {
        String all() {
            return out + err;
        }
    }

    ToolRun tool(ApiServer on, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(toolOptions(on));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(all.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true));
        return new ToolRun(code, out.toString(), err.toString());
    }

    /** The options that make the tool act as {@code on}'s server: its data dir, name, etcd and the cluster token. */
    List<String> toolOptions(ApiServer on) throws Exception {
        Path token = tmp.resolve("token");
        if (!Files.exists(token)) {
            Files.writeString(token, "e2e-cluster-token-" + System.nanoTime());
            Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
        }
        List<String> all = new ArrayList<>(List.of("-d", on.dataDir().toString(), "--node-name", on.nodeName(),
                "--endpoints", plane.etcdEndpoint(), "--token-file", token.toString(), "--apiserver-hostname",
                on.hostname()));
        all.addAll(plane.etcdOptions());
        return all;
    }

    /** node name → {@code <stage>-<hex>} from `status`'s node lines. */
    static Map<String, String> reportedHashes(ToolRun status) {
        assertEquals(0, status.exitCode(), status.all());
        Map<String, String> hashes = new TreeMap<>();
        Matcher m = Pattern.compile("(?m)^(node-\\d+)\\s+(\\S+-[0-9a-f]{64})(?:\\s|$)").matcher(status.out());
        while (m.find()) {
            hashes.put(m.group(1), m.group(2));
        }
        return hashes;
    }

    static byte[] initialConfig() {
        byte[] key = new byte[32];
        new SecureRandom().nextBytes(key);
        return ("{\"kind\":\"EncryptionConfiguration\",\"apiVersion\":\"apiserver.config.k8s.io/v1\",\"resources\":[{"
                + "\"resources\":[\"secrets\",\"configmaps\"],\"providers\":[{\"aescbc\":{\"keys\":[{\"name\":\"aescbckey\","
                + "\"secret\":\"" + Base64.getEncoder().encodeToString(key) + "\"}]}},{\"identity\":{}}]}]}\n")
                .getBytes(StandardCharsets.UTF_8);
    }

    void log(String format, Object... args) {
        System.out.println("[e2e " + scenario + "] " + String.format(format, args));
    }
}
