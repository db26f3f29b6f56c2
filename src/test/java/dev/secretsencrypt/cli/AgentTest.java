package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.testing.Await;
import dev.secretsencrypt.testing.EtcdCluster;
import dev.secretsencrypt.testing.SimulatedApiserver;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three agents (child JVMs, so they can be SIGKILLed) on three simulated servers and a three-member etcd; nobody runs
 * sync. What an operator sees: the files the agents write, {@code nodes} and {@code status}, the agents' log lines,
 * the values in etcd, and /metrics and /healthz. One cluster and one set of agents go through the cases in order
 * (each case starts from where the one before left the cluster): starting an agent JVM and a rotation is what costs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Tag("cluster")
class AgentTest {
    static final List<String> NODES = List.of("node-1", "node-2", "node-3");
    static final int FEW = 30;
    static final int MANY = 20_000; // twenty pages of a thousand: the leader is killed inside its pass
    static final Duration SOON = Duration.ofSeconds(60);

    @TempDir
    static Path tmp;
    EtcdCluster etcd;
    SimulatedServers servers;
    final Map<String, RunningAgent> agents = new LinkedHashMap<>();
    /** Each server's kube-apiserver, simulated: it serves what it loaded and reloads its file 0.3 s after a change. */
    final Map<String, SimulatedApiserver> apiservers = new LinkedHashMap<>();
    final Map<String, byte[]> plain = new HashMap<>();
    /** Every key secret the servers' files held: no agent may log one. */
    final Set<String> keySecrets = new HashSet<>();
    final List<RunningAgent> stopped = new ArrayList<>();
    /** The key Secrets were written with before the first rotation. */
    Envelope enabledWriter;

    @BeforeAll
    void threeServersOnAThreeMemberEtcd() throws Exception {
        etcd = EtcdCluster.start(3);
        servers = new SimulatedServers(tmp, etcd);
        servers.putDefaultNamespace();
        Cli.Result enabled = servers.on("node-1", "enable");
        assertEquals(0, enabled.exitCode(), enabled.all());
    }

    /** {@code node}'s agent, reading the simulated kube-apiserver of that server (started with the first agent). */
    RunningAgent startAgent(String node) {
        SimulatedApiserver api = apiservers.computeIfAbsent(node, n -> {
            SimulatedApiserver started = servers.apiserver(n, SimulatedApiserver.Mode.LAST_CONFIG_INFO);
            started.setLag(Duration.ofMillis(300));
            return started;
        });
        return RunningAgent.start(servers, node, "--apiserver-url", api.url().toString(), "--apiserver-cacert",
                api.caFile().toString());
    }

    @AfterAll
    void stopEverything() throws Exception {
        apiservers.values().forEach(SimulatedApiserver::close);
        for (RunningAgent a : agents.values()) {
            a.close();
        }
        for (RunningAgent a : stopped) {
            a.close();
        }
        if (etcd != null) {
            etcd.close();
        }
    }

    @Test
    @Order(1)
    void everyAgentWritesItsFileAndReportsThenFollowsPrepareWithoutSync() throws Exception {
        for (String node : NODES) {
            agents.put(node, startAgent(node));
        }
        for (String node : NODES) {
            agents.get(node).awaitLine(l -> l.contains("reported " + node + " start-") && l.contains("(from kube-apiserver: last_config_info of "),
                    SOON, "its first report");
        }
        for (String node : NODES) {
            Path file = servers.configFile(node);
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)), node);
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())),
                    node);
        }
        List<JsonNode> rows = nodes();
        assertEquals(NODES, rows.stream().map(r -> r.path("name").asText()).toList(), rows.toString());
        for (JsonNode row : rows) {
            assertEquals("apiserver", row.path("source").asText(), row.toString());
            assertFalse(row.path("stale").asBoolean(), row.toString());
            assertFalse(row.path("mustreload").asBoolean(), row.toString());
            assertTrue(row.path("report").asText().startsWith("start-"), row.toString());
        }
        seed(FEW);
        enabledWriter = writer();
        byte[] enabledFile = filesAllEqual();

        Cli.Result prepared = servers.on("node-2", "prepare");
        assertEquals(0, prepared.exitCode(), prepared.all());
        awaitEveryServerOn("prepare");
        // prepare writes the file of the server it runs on; the other two are the agents' work, with no sync
        for (String node : List.of("node-1", "node-3")) {
            agents.get(node).awaitLine(l -> l.contains("wrote " + servers.configFile(node) + " for stage prepare"),
                    SOON, "that it rewrote its file for prepare");
        }
        assertFalse(java.util.Arrays.equals(enabledFile, filesAllEqual()), "the files changed for prepare");
        assertEquals(2, servers.chain("node-2").readOrder().stream().filter(e -> e.description().startsWith("aescbc/"))
                .count(), "prepare adds a key: " + servers.chain("node-2").readOrder());
        Cli.Result status = servers.on("node-3", "status");
        assertEquals(0, status.exitCode(), status.all());
        assertTrue(status.out().contains("Current Rotation Stage: prepare\n"), status.out());
        assertTrue(status.out().contains("Server Encryption Hashes: All hashes match\n"), status.out());
        assertFalse(status.out().contains("This server:"), "the file is the cluster's config: " + status.out());
        rememberKeys();
    }

    @Test
    @Order(2)
    void aKilledAgentsReportTurnsStaleAndHoldsBackRotateUntilItIsBack() throws Exception {
        RunningAgent node3 = agents.get("node-3");
        assertEquals(128 + 9, node3.kill(), "SIGKILL");
        long killedAt = System.nanoTime();
        awaitNode("node-3", row -> row.path("stale").asBoolean(), "stale after its agent was killed");
        double seconds = (System.nanoTime() - killedAt) / 1e9;
        System.out.printf("node-3's report stale %.1f s after SIGKILL of its agent (report lease %d s)%n", seconds,
                RunningAgent.REPORT_LEASE.toSeconds());
        assertTrue(seconds < RunningAgent.REPORT_LEASE.toSeconds() + 6, "stale after " + seconds + " s");
        Cli.Result listed = servers.on("node-1", "nodes");
        assertTrue(listed.out().matches("(?s).*\nnode-3 +prepare-[0-9a-f]{64} +apiserver +\\S+ +stale: agent gone(\n.*|$)"),
                listed.out());

        Cli.Result refused = servers.on("node-1", "rotate");
        assertEquals(1, refused.exitCode(), refused.all());
        assertTrue(refused.err().contains("Start the agent on node-3 (its report is stale: the agent stopped renewing it, or lost etcd"), refused.err());
        assertFalse(refused.err().contains("node-1") || refused.err().contains("node-2"),
                "only node-3 is behind: " + refused.err());

        stopped.add(node3);
        RunningAgent back = startAgent("node-3");
        agents.put("node-3", back);
        back.awaitLine(l -> l.contains("reported node-3 prepare-"), SOON, "its report after the restart");
        awaitNode("node-3", row -> !row.path("stale").asBoolean() && !row.path("mustreload").asBoolean(),
                "fresh again");
        Cli.Result rotated = servers.on("node-1", "rotate");
        assertEquals(0, rotated.exitCode(), rotated.all());
        awaitEveryServerOn("rotate");
        filesAllEqual();
    }

    @Test
    @Order(3)
    void aRequestedReencryptionIsCarriedOutByTheLeadingAgent() throws Exception {
        Cli.Result requested = servers.on("node-2", "reencrypt", "--async");
        assertEquals(0, requested.exitCode(), requested.all());
        assertTrue(requested.out().contains("re-encryption requested"), requested.out());
        RunningAgent leader = awaitLeader();
        int from = leader.awaitLine(l -> l.contains("info carrying out the requested re-encryption"), SOON,
                "that it carries out the request");
        leader.awaitLine(from, l -> l.contains("info re-encryption done: "), SOON, "the end of the re-encryption");
        for (RunningAgent a : agents.values()) {
            if (a != leader) {
                assertFalse(a.log().contains("re-encryption done"), a.node + " is no leader:\n" + a.log());
            }
        }
        awaitEveryServerOn("reencrypt_finished");
        finishedAndEveryValueUnderTheNewKey(enabledWriter);
    }

    @Test
    @Order(4)
    void theLeaderKilledMidReencryptionHandsTheRunToAnotherAgentWhichResumesIt() throws Exception {
        seed(MANY - FEW);
        Envelope before = writer();
        Cli.Result prepared = servers.on("node-1", "prepare");
        assertEquals(0, prepared.exitCode(), prepared.all());
        awaitEveryServerOn("prepare");
        Cli.Result rotated = servers.on("node-1", "rotate");
        assertEquals(0, rotated.exitCode(), rotated.all());
        awaitEveryServerOn("rotate");
        rememberKeys();

        RunningAgent leader = awaitLeader();
        int from = leader.mark();
        Cli.Result requested = servers.on("node-3", "reencrypt", "--async");
        assertEquals(0, requested.exitCode(), requested.all());
        leader.awaitLine(from, l -> l.contains("carrying out the requested re-encryption"), SOON, "the request");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        long done = 0;
        while (done == 0 && System.nanoTime() < deadline) {
            done = servers.checkpointDone();
            Thread.sleep(5); // the point: the kill lands right after the first checkpoint, inside the pass
        }
        assertEquals(128 + 9, leader.kill(), "SIGKILL of the leader");
        long killedAt = System.nanoTime();
        assertTrue(done > 0 && done < MANY, "killed inside the pass, at " + done + ":\n" + leader.log());
        assertFalse(leader.saidSince(from, "re-encryption done"), leader.log());
        long checkpoint = servers.checkpointDone();
        System.out.println("killed the leader " + leader.node + " with the checkpoint at " + checkpoint + "/" + MANY);
        stopped.add(leader);
        agents.remove(leader.node);

        RunningAgent next = awaitLeader();
        System.out.printf("%s leads %.1f s after the kill%n", next.node, (System.nanoTime() - killedAt) / 1e9);
        int resumedAt = next.awaitLine(l -> l.contains("info resuming the re-encryption whose runner is gone"),
                Duration.ofSeconds(90), "that it resumes the orphaned re-encryption");
        System.out.printf("%s resumes %.1f s after the kill%n", next.node, (System.nanoTime() - killedAt) / 1e9);
        assertTrue(System.nanoTime() - killedAt >= TimeUnit.SECONDS.toNanos(15), "not before the owner lease lapsed");

        // the killed agent's server reports stale: a pass may not retire a key while one server is unknown, so
        // the new leader waits for it (systemd restarts the agent) and names it meanwhile
        int refusedAt = next.awaitLine(resumedAt, l -> l.contains("the agent on " + leader.node + " (its report is stale")
                || l.contains("re-encryption done"), SOON, "the outcome of the resume");
        System.out.println("the new leader after the resume: " + next.line(refusedAt));
        RunningAgent back = startAgent(leader.node);
        agents.put(leader.node, back);
        int doneAt = next.awaitLine(resumedAt, l -> l.contains("info re-encryption done: resumed from its checkpoint"),
                Duration.ofSeconds(120), "that the resumed re-encryption finished");
        System.out.printf("the resumed re-encryption finished %.1f s after the kill: %s%n",
                (System.nanoTime() - killedAt) / 1e9, next.line(doneAt));
        assertTrue(next.line(doneAt).contains("values were done before the interruption"), next.line(doneAt));
        assertFalse(back.saidSince(0, "re-encryption done"), "the restarted agent is no leader:\n" + back.log());

        awaitEveryServerOn("reencrypt_finished");
        finishedAndEveryValueUnderTheNewKey(before);
    }

    @Test
    @Order(5)
    void metricsShowTheStageTheLeaderAndEveryServer() throws Exception {
        RunningAgent leader = awaitLeader();
        for (RunningAgent a : agents.values()) {
            // an agent refreshes the other servers' reports at its own rounds (every 5 probe intervals when loaded)
            HttpResponse<String> metrics = Await.until(Duration.ofSeconds(10), a.node + "'s /metrics with every "
                    + "server loaded", () -> {
                        try {
                            return Optional.of(a.get("/metrics")).filter(m -> everyServerLoaded(m.body()));
                        } catch (Exception notYet) {
                            return Optional.empty();
                        }
                    });
            assertEquals(200, metrics.statusCode(), metrics.body());
            assertTrue(metrics.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"),
                    metrics.headers().toString());
            String body = metrics.body();
            assertTrue(body.contains("\nsecrets_encrypt_stage{stage=\"reencrypt_finished\"} 1.0\n"), body);
            assertTrue(body.contains("\nsecrets_encrypt_stage{stage=\"prepare\"} 0.0\n"), body);
            assertTrue(body.contains("\nsecrets_encrypt_agent_leader " + (a == leader ? "1.0" : "0.0") + "\n"),
                    a.node + " leads: " + (a == leader) + "\n" + body);
            for (String node : NODES) {
                assertTrue(body.contains("\nsecrets_encrypt_server_loaded{node=\"" + node + "\",source=\"apiserver\"} 1.0\n"),
                        body);
                assertTrue(body.contains("\nsecrets_encrypt_server_report_stale{node=\"" + node
                        + "\",source=\"apiserver\"} 0.0\n"), body);
            }
            assertTrue(body.contains("# TYPE secrets_encrypt_stage gauge\n"), body);
            HttpResponse<String> health = a.get("/healthz");
            assertEquals(200, health.statusCode(), health.body());
            assertEquals("ok\n", health.body());
            for (String secret : keySecrets) {
                assertFalse(body.contains(secret), "a key secret in /metrics");
            }
        }
        String leaderMetrics = leader.get("/metrics").body();
        System.out.println("/metrics of the leader " + leader.node + ":\n" + leaderMetrics);
        assertTrue(leaderMetrics.contains("\nsecrets_encrypt_reencrypt_values_total " + (double) MANY + "\n")
                && leaderMetrics.contains("\nsecrets_encrypt_reencrypt_values_done " + (double) MANY + "\n")
                && leaderMetrics.contains("\nsecrets_encrypt_reencrypt_values_failed 0.0\n"), leaderMetrics);
    }

    @Test
    @Order(6)
    void sigtermStopsAnAgentAndItsReportIsStaleAtOnce() throws Exception {
        RunningAgent node2 = agents.get("node-2");
        awaitNode("node-2", row -> !row.path("stale").asBoolean(), "fresh before the stop");
        long sentAt = System.nanoTime();
        int code = node2.terminate();
        double exitedAfter = (System.nanoTime() - sentAt) / 1e9;
        List<JsonNode> rows = nodes();
        double seconds = (System.nanoTime() - sentAt) / 1e9;
        System.out.printf("agent exit code after SIGTERM: %d, exited after %.2f s, stale at the first look %.2f s "
                + "after SIGTERM: %s%n", code, exitedAfter, seconds, rows);
        assertTrue(node2.log().contains("info agent stopped on node-2"), node2.log());
        assertEquals(143, code, "the JVM ends with 128+SIGTERM when a signal stopped it, even after its hooks ran:\n"
                + node2.log());
        assertTrue(exitedAfter < 5, "SIGTERM took " + exitedAfter + " s:\n" + node2.log());
        // well inside the report lease: the agent revoked it on its way out, no expiry needed
        assertTrue(seconds < RunningAgent.REPORT_LEASE.toSeconds() - 1, "first look after " + seconds + " s");
        JsonNode row = rows.stream().filter(r -> r.path("name").asText().equals("node-2")).findFirst().orElseThrow();
        assertTrue(row.path("stale").asBoolean(), "stale at once (" + seconds + " s), lease revoked: " + row);
        stopped.add(node2);
        agents.remove("node-2");

        for (RunningAgent a : stopped) {
            for (String secret : keySecrets) {
                assertFalse(a.log().contains(secret), "a key secret in " + a.node + "'s log");
            }
        }
        for (RunningAgent a : agents.values()) {
            for (String secret : keySecrets) {
                assertFalse(a.log().contains(secret), "a key secret in " + a.node + "'s log");
            }
        }
    }

    // ---- what an operator looks at ----

    /** /metrics lists every server as loaded and fresh. */
    static boolean everyServerLoaded(String metrics) {
        return NODES.stream().allMatch(n -> metrics.contains("\nsecrets_encrypt_server_loaded{node=\"" + n
                + "\",source=\"apiserver\"} 1.0\n") && metrics.contains("\nsecrets_encrypt_server_report_stale{node=\"" + n
                + "\",source=\"apiserver\"} 0.0\n"));
    }

    List<JsonNode> nodes() throws Exception {
        Cli.Result r = servers.on("node-1", "nodes", "-o", "json");
        assertEquals(0, r.exitCode(), r.all());
        List<JsonNode> rows = new ArrayList<>();
        new ObjectMapper().readTree(r.out()).forEach(rows::add);
        return rows;
    }

    void awaitNode(String node, Predicate<JsonNode> wanted, String what) {
        Await.until(SOON, node + " " + what, Await.quietly(() -> nodes().stream()
                .anyMatch(r -> r.path("name").asText().equals(node) && wanted.test(r))));
    }

    /** Every server reports the current config at {@code stage}, fresh: what rotate and reencrypt wait for. */
    void awaitEveryServerOn(String stage) {
        Await.until(SOON, "every server reports " + stage, () -> {
            try {
                Cli.Result status = servers.on("node-1", "status");
                List<JsonNode> rows = nodes();
                return Optional.of(status).filter(x -> x.out().contains("Current Rotation Stage: " + stage + "\n")
                        && rows.size() == NODES.size() && rows.stream().allMatch(r -> !r.path("stale").asBoolean()
                        && !r.path("mustreload").asBoolean()) && x.out().contains("All hashes match"));
            } catch (Exception notYet) {
                return Optional.empty();
            }
        }, () -> servers.on("node-1", "status").out() + "\n" + agentLogs());
    }

    RunningAgent awaitLeader() {
        return Await.until(SOON, "one agent leads", () -> {
            List<RunningAgent> leading = agents.values().stream().filter(RunningAgent::leads).toList();
            assertTrue(leading.size() < 2, "two agents lead at once: " + leading.stream().map(a -> a.node).toList());
            return leading.stream().findFirst();
        }, this::agentLogs);
    }

    String agentLogs() {
        StringBuilder out = new StringBuilder();
        agents.values().forEach(a -> out.append("--- ").append(a.node).append(":\n").append(a.log()));
        return out.toString();
    }

    byte[] filesAllEqual() throws Exception {
        byte[] first = Files.readAllBytes(servers.configFile("node-1"));
        for (String node : NODES) {
            assertArrayEquals(first, Files.readAllBytes(servers.configFile(node)), node + " has another file");
        }
        return first;
    }

    Envelope writer() throws Exception {
        return servers.chain("node-1").writer();
    }

    /** {@code secrets} more Secrets, as kube-apiserver stores them, under the key the servers write with now. */
    void seed(int secrets) throws Exception {
        servers.seedSecrets(secrets, writer(), plain);
    }

    /** Stage reencrypt_finished, verify finds nothing unreadable, every Secret is under the one key left. */
    void finishedAndEveryValueUnderTheNewKey(Envelope before) throws Exception {
        Cli.Result status = servers.on("node-2", "status");
        assertTrue(status.out().contains("Current Rotation Stage: reencrypt_finished\n"), status.out());
        Cli.Result verified = servers.on("node-3", "verify");
        assertEquals(0, verified.exitCode(), verified.all());
        servers.assertEveryValueUnderTheNewKey(NODES, before, plain);
        rememberKeys();
    }

    void rememberKeys() throws Exception {
        for (String node : NODES) {
            ConfigFiles.read(servers.configFile(node)).resources().forEach(rule -> rule.providers().forEach(p -> {
                if (p instanceof KeyedProvider k) {
                    k.keys().forEach(key -> keySecrets.add(key.secret()));
                }
            }));
        }
        assertNotEquals(0, keySecrets.size());
    }
}
