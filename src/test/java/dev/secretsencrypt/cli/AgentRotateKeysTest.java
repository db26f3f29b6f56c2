package dev.secretsencrypt.cli;

import dev.secretsencrypt.testing.ChildJvm;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.testing.Await;
import dev.secretsencrypt.testing.EtcdCluster;
import dev.secretsencrypt.testing.SimulatedApiserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three servers on a three-member etcd, each with a simulated kube-apiserver (the real metrics format; it "reloads"
 * its file after a lag) and its own agent in a JVM of its own. rotate-keys moves only as the apiservers load each
 * file, with nothing restarted and no sync run by hand.
 */
@Tag("cluster")
class AgentRotateKeysTest {
    static final List<String> SERVERS = List.of("node-1", "node-2", "node-3");
    static final Duration QUICK = Duration.ofMillis(500);
    static final Duration LAGGING = Duration.ofSeconds(8);

    static EtcdCluster etcd;

    @TempDir
    Path tmp;

    SimulatedServers servers;
    final Map<String, SimulatedApiserver> apiservers = new LinkedHashMap<>();
    final Map<String, Process> agents = new LinkedHashMap<>();
    final Map<String, byte[]> plain = new HashMap<>();
    /** More options for every agent a test starts. */
    final List<String> agentOptions = new ArrayList<>();
    Envelope old;

    @BeforeAll
    static void startEtcd() {
        etcd = EtcdCluster.start(3);
    }

    @AfterAll
    static void stopEtcd() {
        etcd.close();
    }

    @AfterEach
    void stopEverything() throws Exception {
        for (Process p : agents.values()) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        apiservers.values().forEach(SimulatedApiserver::close);
    }

    @Test
    void rotateKeysStopsWhileOneApiserverLagsAndCompletesOnceItLoadedWithNothingRestarted() throws Exception {
        enabledWithSecretsAndAgents(200);
        apiservers.get("node-3").setLag(LAGGING);

        long t0 = System.nanoTime();
        Cli.Result lagging = servers.on("node-1", "rotate-keys", "--timeout", "4s", "--poll-interval-ms", "200");
        System.out.println("rotate-keys while node-3 lags " + LAGGING.toSeconds() + " s:\n" + lagging.all());
        assertEquals(1, lagging.exitCode(), lagging.all());
        assertTrue(lagging.err().contains("rotate-keys stopped after step 1 (prepare): in 4s not every server loaded "
                + "the prepared config (stage prepare): node-3 did not load it: the agent on node-3 reports once "
                + "kube-apiserver there loaded the file"), lagging.err());
        assertTrue(lagging.out().contains("  node-1 loaded the prepared config"), lagging.out());
        assertTrue(lagging.out().contains("  node-2 loaded the prepared config"), lagging.out());
        assertEquals("prepare", stage());
        assertFalse(lagging.all().contains("step 2/4"), "nothing went on while node-3 lagged");

        Cli.Result done = servers.on("node-1", "rotate-keys", "--timeout", "1m", "--poll-interval-ms", "200");
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        System.out.println("rotate-keys once node-3 caught up (" + seconds + " s in all):\n" + done.all());
        assertEquals(0, done.exitCode(), done.all());
        assertTrue(done.out().startsWith("continuing the rotation from stage prepare\n"), done.out());
        int node3 = done.out().indexOf("  node-3 loaded the prepared config (stage prepare) (3/3)");
        assertTrue(node3 >= 0 && node3 < done.out().indexOf("step 2/4 rotate: "), done.out());
        assertTrue(done.out().contains("every server (3) loaded the rotated config"), done.out());
        assertTrue(done.out().contains("rotate-keys done: every server loaded the final config"), done.out());
        assertEquals("reencrypt_finished", stage());

        everyValueUnderTheNewKey();
        for (String node : SERVERS) {
            // each simulated apiserver serves with the final file: loaded by its reload, never by a restart
            assertEquals(ConfigFiles.sha256Hex(Files.readAllBytes(servers.configFile(node))),
                    apiservers.get(node).loadedSha256().orElseThrow(), node);
        }
        JsonNode nodes = new ObjectMapper().readTree(servers.on("node-2", "nodes", "-o", "json").out());
        for (JsonNode n : nodes) {
            assertEquals("apiserver", n.path("source").asText(), n.toString());
            assertFalse(n.path("stale").asBoolean(), n.toString());
            assertFalse(n.path("mustreload").asBoolean(), n.toString());
        }
        assertTrue(agentLog("node-3").contains("reported node-3 prepare-"), agentLog("node-3"));
    }

    @Test
    void anAgentKilledMidRotationLeavesAStaleReportThatHoldsTheRotationUntilItIsBack() throws Exception {
        enabledWithSecretsAndAgents(20);
        Process node2 = agents.get("node-2");
        node2.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        awaitNodes(all -> all.findParents("name").stream().anyMatch(n -> n.path("name").asText().equals("node-2")
                && n.path("stale").asBoolean()), "node-2's report turns stale");

        Cli.Result held = servers.on("node-1", "rotate-keys", "--timeout", "3s", "--poll-interval-ms", "200");
        assertEquals(1, held.exitCode(), held.all());
        assertTrue(held.err().contains("node-2 did not load it: start the agent on node-2 (its report is stale"), held.err());
        assertTrue(servers.on("node-1", "status").out().contains("node-2  "), "status lists node-2");
        assertTrue(servers.on("node-1", "nodes").out().contains("stale: agent gone"));

        startAgent("node-2");
        Cli.Result done = servers.on("node-1", "rotate-keys", "--timeout", "1m", "--poll-interval-ms", "200");
        assertEquals(0, done.exitCode(), done.all());
        assertEquals("reencrypt_finished", stage());
        everyValueUnderTheNewKey();
    }

    @Test
    void theScheduleRotatesByItselfOnlyOnceEveryServerLoadedAndNotAgainBeforeItsTime() throws Exception {
        agentOptions.addAll(List.of("--rotate-every", "25s", "--wait-timeout", "1m"));
        enabledWithSecretsAndAgents(50);
        apiservers.get("node-2").setLag(LAGGING);
        long t0 = System.nanoTime();
        // nobody runs a command: the leading agent starts the rotation when it is due and waits for node-2 each time
        Await.until(Duration.ofSeconds(120), "the scheduled rotation retired a key", Await.quietly(() ->
                stage().equals("reencrypt_finished") && servers.on("node-1", "status").out().contains("Retired keys")));
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        String leaderLog = "";
        for (String node : SERVERS) {
            if (agentLog(node).contains("leads the agents")) {
                leaderLog = agentLog(node);
            }
        }
        System.out.println("the scheduled rotation, " + seconds + " s after the agents started; the leader's log:\n"
                + leaderLog);
        assertEquals("reencrypt_finished", stage(), leaderLog);
        assertTrue(leaderLog.contains("rotating the keys: the schedule is due (every 25s)"), leaderLog);
        assertTrue(leaderLog.contains("rotate-keys: every server (3) loaded the prepared config"), leaderLog);
        assertTrue(seconds >= 25, "rotated before the schedule was due: " + seconds + " s");
        awaitNodes(all -> all.findParents("name").stream().noneMatch(n -> n.path("mustreload").asBoolean()),
                "every server on the final config");
        everyValueUnderTheNewKey();
        // back-pressure: the next one is due 25 s after this one retired its key, not at once
        Thread.sleep(5000); // the point: five seconds in which nothing may start
        assertEquals("reencrypt_finished", stage(), "a second rotation began before it was due");
    }

    @Test
    void neitherASyncByHandNorAForgetNorAnAgentUnderItsNameMakesALaggingServerCountAsLoaded() throws Exception {
        enabledWithSecretsAndAgents(20);
        apiservers.get("node-3").setLag(Duration.ofMinutes(10));
        assertEquals(0, servers.on("node-1", "prepare").exitCode());
        awaitNodes(all -> all.findParents("name").stream().filter(n -> !n.path("name").asText().equals("node-3"))
                .noneMatch(n -> n.path("mustreload").asBoolean()), "node-1 and node-2 on the prepared config");

        // sync by hand on node-3 writes its file but leaves its report to the agent, which reads the apiserver
        Cli.Result synced = servers.on("node-3", "sync");
        assertEquals(0, synced.exitCode(), synced.all());
        assertTrue(synced.out().contains("left the report of node-3 to its agent, which reads what kube-apiserver "
                + "loaded"), synced.out());
        Cli.Result rotate = servers.on("node-1", "rotate");
        assertEquals(1, rotate.exitCode(), rotate.all());
        assertTrue(rotate.err().contains("The agent on node-3 reports once kube-apiserver there loaded the file"),
                rotate.err());

        // a running agent's server cannot be forgotten: it would be in no check until the agent's next round
        Cli.Result forget = servers.on("node-1", "nodes", "forget", "node-3");
        assertEquals(1, forget.exitCode(), forget.all());
        assertTrue(forget.err().contains("the agent on node-3 is running"), forget.err());

        // an agent on another machine under node-3's name is refused before it touches node-3's report lease
        List<String> impostor = new ArrayList<>(ChildJvm.command(servers.args("node-3", "agent", "--metrics-address",
                "off", "--report-lease-seconds", "4")));
        impostor.set(impostor.indexOf("-d") + 1, tmp.resolve("another-machine").toString());
        Process other = new ProcessBuilder(impostor).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("impostor.log").toFile()).start();
        Await.until(Duration.ofSeconds(60), "the impostor refused", Await.quietly(() ->
                Files.readString(tmp.resolve("impostor.log")).contains("another machine reports as node-3")));
        other.destroy();
        other.waitFor(20, TimeUnit.SECONDS);
        String log = Files.readString(tmp.resolve("impostor.log"));
        assertTrue(log.contains("another machine reports as node-3"), log);
        JsonNode node3 = new ObjectMapper().readTree(servers.on("node-1", "nodes", "-o", "json").out()).get(2);
        assertEquals("node-3", node3.path("name").asText());
        assertFalse(node3.path("stale").asBoolean(), "the impostor's stop left node-3's report alive: " + node3);
        assertTrue(node3.path("mustreload").asBoolean(), node3.toString());
    }

    @Test
    void anApiserverBefore134IsNeverVouchedForAndTheRotationNamesWhatKeepsItsAgentFromReporting() throws Exception {
        // before 1.34 no answer names both the config and the apiserver that loaded it: a restart-only one here
        enabledWithSecretsAndAgents(20, Map.of("node-2", SimulatedApiserver.Mode.RESTART_ONLY));
        awaitNodes(all -> agentLogHas("node-2", "before 1.34"), "node-2's agent says why it cannot report");
        Cli.Result held = servers.on("node-1", "rotate-keys", "--timeout", "3s", "--poll-interval-ms", "200");
        System.out.println("rotate-keys with node-2's apiserver before 1.34:\n" + held.all());
        assertEquals(1, held.exitCode(), held.all());
        assertTrue(held.err().contains("node-2 did not load it: the agent on node-2 cannot report: kube-apiserver at "
                + apiservers.get("node-2").url() + " does not export apiserver_encryption_config_controller_last_config_info"
                + " (kube-apiserver before 1.34"), held.err());
        assertEquals("prepare", stage());
        apiservers.get("node-2").restart(); // a restart loads the file, but nothing tells which file: still no report
        Thread.sleep(2000); // two rounds of node-2's agent (200 ms each): the point is that none of them reports
        JsonNode node2 = new ObjectMapper().readTree(servers.on("node-1", "nodes", "-o", "json").out()).get(1);
        assertTrue(node2.path("mustreload").asBoolean(), node2.toString());
        assertEquals("file", node2.path("source").asText(), node2.toString());
    }

    boolean agentLogHas(String node, String text) {
        try {
            return agentLog(node).contains(text);
        } catch (Exception e) {
            return false;
        }
    }

    // ---- set-up ----

    void enabledWithSecretsAndAgents(int secrets) throws Exception {
        enabledWithSecretsAndAgents(secrets, Map.of());
    }

    /** As above, each server's simulated apiserver in the mode given ({@code LAST_CONFIG_INFO} when not named). */
    void enabledWithSecretsAndAgents(int secrets, Map<String, SimulatedApiserver.Mode> modes) throws Exception {
        servers = new SimulatedServers(tmp, etcd);
        servers.putDefaultNamespace();
        Cli.Result enabled = servers.on("node-1", "enable");
        assertEquals(0, enabled.exitCode(), enabled.all());
        for (String node : SERVERS) {
            Cli.Result sync = servers.on(node, "sync"); // as the unit's ExecStartPre before kube-apiserver's first start
            assertEquals(0, sync.exitCode(), sync.all());
        }
        old = servers.chain("node-1").writer();
        servers.seedSecrets(secrets, old, plain);
        for (String node : SERVERS) {
            SimulatedApiserver api = servers.apiserver(node, modes.getOrDefault(node,
                    SimulatedApiserver.Mode.LAST_CONFIG_INFO));
            api.setLag(QUICK);
            apiservers.put(node, api);
            startAgent(node);
        }
        // an apiserver of an older release never gets a report from its agent: its server stays on sync's
        awaitNodes(all -> all.size() == SERVERS.size() && all.findParents("name").stream()
                .filter(n -> !modes.containsKey(n.path("name").asText())).allMatch(n ->
                n.path("source").asText().equals("apiserver") && !n.path("stale").asBoolean()),
                "every server of a current release reported by its agent from its apiserver");
    }

    void startAgent(String node) throws Exception {
        SimulatedApiserver api = apiservers.get(node);
        List<String> command = new ArrayList<>(List.of("agent", "--apiserver-url", api.url().toString(),
                "--apiserver-cacert", api.caFile().toString(), "--metrics-address", "off", "--report-lease-seconds",
                "4", "--probe-interval-ms", "200", "--leader-recheck-ms", "1000"));
        command.addAll(agentOptions);
        agents.put(node, servers.child(node, command.toArray(String[]::new)).redirectErrorStream(true)
                .redirectOutput(tmp.resolve(node + "-agent.log").toFile()).start());
    }

    String agentLog(String node) throws Exception {
        return Files.readString(tmp.resolve(node + "-agent.log"));
    }

    /** Waits (at most 30 s) until {@code nodes -o json} (the array of servers) matches. */
    void awaitNodes(Predicate<JsonNode> matches, String what) {
        java.util.concurrent.atomic.AtomicReference<String> last = new java.util.concurrent.atomic.AtomicReference<>("");
        BooleanSupplier matched = Await.quietly(() -> {
            Cli.Result r = servers.on("node-1", "nodes", "-o", "json");
            last.set(r.all());
            return r.exitCode() == 0 && matches.test(new ObjectMapper().readTree(r.out()));
        });
        Await.until(Duration.ofSeconds(30), what, () -> matched.getAsBoolean() ? Optional.of(true) : Optional.empty(),
                last::get);
    }

    String stage() throws Exception {
        return new ObjectMapper().readTree(servers.on("node-1", "status", "-o", "json").out()).path("stage").asText();
    }

    void everyValueUnderTheNewKey() throws Exception {
        servers.assertEveryValueUnderTheNewKey(SERVERS, old, plain);
    }
}
