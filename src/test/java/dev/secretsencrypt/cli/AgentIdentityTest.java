package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.testing.Await;
import dev.secretsencrypt.testing.LoopbackBalancer;
import dev.secretsencrypt.testing.SimulatedApiserver;
import io.etcd.jetcd.ByteSequence;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent vouches only for its own server's kube-apiserver: one behind a load balancer on 127.0.0.1 (or at another
 * server's address) never makes a report count, and a server back with a retired key as its writer is named and
 * repaired. Three servers on the shared etcd, simulated apiservers with identity leases, agents in JVMs of their own.
 */
@Tag("cluster")
class AgentIdentityTest {
    static final List<String> SERVERS = List.of("node-1", "node-2", "node-3");
    static final Duration SOON = Duration.ofSeconds(60);

    @TempDir
    java.nio.file.Path tmp;
    SimulatedServers servers;
    final Map<String, SimulatedApiserver> apiservers = new LinkedHashMap<>();
    final Map<String, RunningAgent> agents = new LinkedHashMap<>();
    final Map<String, byte[]> plain = new HashMap<>();
    final List<AutoCloseable> closing = new ArrayList<>();
    Envelope old;

    @BeforeEach
    void threeServers() throws Exception {
        servers = new SimulatedServers(tmp);
        servers.putDefaultNamespace();
        assertEquals(0, servers.on("node-1", "enable").exitCode());
        for (String node : SERVERS) {
            assertEquals(0, servers.on(node, "sync").exitCode());
            SimulatedApiserver api = servers.apiserver(node, SimulatedApiserver.Mode.LAST_CONFIG_INFO);
            api.setLag(Duration.ofMillis(300));
            apiservers.put(node, api);
        }
        old = servers.chain("node-1").writer();
        servers.seedSecrets(30, old, plain);
    }

    @AfterEach
    void stopEverything() throws Exception {
        for (RunningAgent a : agents.values()) {
            a.close();
        }
        for (AutoCloseable c : closing) {
            c.close();
        }
        apiservers.values().forEach(SimulatedApiserver::close);
    }

    @Test
    void anAgentBehindALoopbackLoadBalancerNeverReportsIsUnhealthySayingWhyAndRotateKeysWaitsNamingIt()
            throws Exception {
        // node-3's own apiserver is frozen on the old config; the balancer sends node-3's agent to node-1 first
        apiservers.get("node-3").setLag(Duration.ofHours(1));
        List<Integer> ports = SERVERS.stream().map(n -> apiservers.get(n).url().getPort()).toList();
        LoopbackBalancer balancer = LoopbackBalancer.over(ports);
        closing.add(balancer);
        startAgent("node-1", apiservers.get("node-1").url().toString());
        startAgent("node-2", apiservers.get("node-2").url().toString());
        RunningAgent node3 = startAgent("node-3", balancer.url().toString());
        int said = node3.awaitLine(l -> l.contains("answered as another kube-apiserver"), SOON,
                "that another kube-apiserver answered");
        System.out.println("node-3's agent behind a load balancer:\n" + node3.line(said));
        assertTrue(node3.line(said).contains("that is the kube-apiserver on node-"), node3.line(said));
        HttpResponse<String> health = node3.get("/healthz");
        assertEquals(503, health.statusCode(), health.body());
        assertTrue(health.body().contains("answered as another kube-apiserver"), health.body());

        Cli.Result held = servers.on("node-1", "rotate-keys", "--timeout", "6s", "--poll-interval-ms", "200");
        System.out.println("rotate-keys while node-3's agent reaches a load balancer:\n" + held.all());
        assertEquals(1, held.exitCode(), held.all());
        assertTrue(held.err().contains("node-3 did not load it: the agent on node-3 cannot report: kube-apiserver at "
                + balancer.url() + " answered as another kube-apiserver"), held.err());
        assertEquals("prepare", stage(), "no step past prepare while node-3 is not accounted for");
        assertFalse(node3.log().contains("reported node-3"), node3.log());
        JsonNode node3Report = nodes().get(2);
        assertEquals("file", node3Report.path("source").asText(), node3Report.toString());

        // pointed at its own apiserver, which catches up: the rotation goes on to the end
        agents.remove("node-3").close();
        apiservers.get("node-3").setLag(Duration.ofMillis(300));
        startAgent("node-3", apiservers.get("node-3").url().toString());
        Cli.Result done = servers.on("node-1", "rotate-keys", "--timeout", "1m", "--poll-interval-ms", "200");
        assertEquals(0, done.exitCode(), done.all());
        servers.assertEveryValueUnderTheNewKey(SERVERS, old, plain);
    }

    @Test
    void anAgentFindingARetiredKeyAsItsServersWriterSaysSoLoudlyAndTheLeaderRewritesWhatItWrote() throws Exception {
        byte[] startFile = Files.readAllBytes(servers.configFile("node-3"));
        for (String step : List.of("prepare", "rotate", "reencrypt")) {
            assertEquals(0, servers.on("node-1", step).exitCode(), step);
            for (String node : SERVERS) {
                assertEquals(0, servers.on(node, "sync").exitCode());
            }
        }
        // node-3 restored from an old backup; its apiserver writes a Secret with the retired key before any agent runs
        Files.write(servers.configFile("node-3"), startFile);
        String key = servers.etcdPrefix + "/secrets/back/written-by-node-3";
        byte[] value = "k8s\0written by node-3".getBytes(StandardCharsets.ISO_8859_1);
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        servers.kv().put(ByteSequence.from(k), ByteSequence.from(old.seal(value, k))).get(10, TimeUnit.SECONDS);
        plain.put(key, value);

        RunningAgent node3 = startAgent("node-3", apiservers.get("node-3").url().toString());
        int loud = node3.awaitLine(l -> l.contains(" error ") && l.contains("had aescbc/aescbckey (retired "), SOON,
                "that its file had a retired key as its writer");
        System.out.println(node3.line(loud));
        // the only agent leads: it re-encrypts once node-3's apiserver loaded the cluster's file, then is healthy
        node3.awaitLine(l -> l.contains("re-encrypting: a server was found with a retired key as its writer"), SOON,
                "the leader's re-encryption");
        node3.awaitLine(l -> l.contains("re-encryption done: "), SOON, "the end of that re-encryption");
        awaitHealth(node3, r -> r.statusCode() == 200);
        // the pass moved the stage twice: node-3's apiserver reloads the last file a moment after the pass ends
        String[] seen = {""};
        Await.until(SOON, "every server's hash to match after the pass", () -> {
            seen[0] = servers.on("node-1", "status").out();
            return seen[0].contains("Server Encryption Hashes: All hashes match") ? Optional.of(true) : Optional.empty();
        }, () -> seen[0]);
        assertEquals(0, servers.on("node-2", "verify").exitCode());
        servers.assertEveryValueUnderTheNewKey(SERVERS, old, plain);
    }

    @Test
    void aFileReplacedUnderARunningAgentWhileItsApiserverServesItKeepsTheRetiredWritersPassWaitingForThatApiserver()
            throws Exception {
        byte[] startFile = Files.readAllBytes(servers.configFile("node-3"));
        for (String step : List.of("prepare", "rotate", "reencrypt")) {
            assertEquals(0, servers.on("node-1", step).exitCode(), step);
            for (String node : SERVERS) {
                assertEquals(0, servers.on(node, "sync").exitCode());
            }
        }
        SERVERS.forEach(n -> startAgent(n, apiservers.get(n).url().toString()));
        for (Map.Entry<String, RunningAgent> a : agents.entrySet()) {
            a.getValue().awaitLine(l -> l.contains("reported " + a.getKey()), SOON, "its report");
        }
        // by hand on node-3: the old file copied back, and its apiserver serves with it (then reloads nothing for now)
        SimulatedApiserver api3 = apiservers.get("node-3");
        api3.setLag(Duration.ofHours(1));
        Files.write(servers.configFile("node-3"), startFile);
        api3.restart();
        RunningAgent node3 = agents.get("node-3");
        node3.awaitLine(l -> l.contains(" error ") && l.contains("had aescbc/aescbckey (retired "), SOON,
                "that its file had a retired key as its writer");
        // the leader tries its pass at once; node-3's stored report must not let it end while node-3 writes that key
        Await.until(SOON, "a leader refused to re-encrypt while node-3's apiserver serves the old file", () ->
                agents.values().stream().anyMatch(a -> a.log().lines().anyMatch(l -> l.contains("reencrypt is refused")
                        && l.contains("node-3"))));
        String key = servers.etcdPrefix + "/secrets/back/written-by-node-3";
        byte[] value = "k8s\0written while node-3 served the old file".getBytes(StandardCharsets.ISO_8859_1);
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        servers.kv().put(ByteSequence.from(k), ByteSequence.from(old.seal(value, k))).get(10, TimeUnit.SECONDS);
        plain.put(key, value);
        assertFalse(agents.values().stream().anyMatch(a -> a.log().contains("re-encryption done: ")), "no pass ended "
                + "while node-3's apiserver writes with the retired key:\n" + node3.log());
        Cli.Result status = servers.on("node-1", "status");
        System.out.println("status while node-3 serves the old file:\n" + status.out());
        assertFalse(status.out().contains("All hashes match"), status.out());
        assertTrue(status.out().contains("retired"), status.out());
        JsonNode json = new ObjectMapper().readTree(servers.on("node-1", "status", "-o", "json").out());
        assertTrue(json.path("cautions").toString().contains("node-3 had the retired key"), json.toString());
        JsonNode node3Row = nodes().get(2);
        assertTrue(node3Row.path("mustreload").asBoolean(), node3Row.toString());

        // its apiserver reloads the cluster's file: the pass runs, rewrites what it wrote, and the finding is cleared
        api3.setLag(Duration.ofMillis(300));
        Await.until(SOON, "the leader's pass after node-3 reloaded", () ->
                agents.values().stream().anyMatch(a -> a.log().contains("re-encryption done: ")));
        awaitHealth(node3, r -> r.statusCode() == 200);
        servers.assertEveryValueUnderTheNewKey(SERVERS, old, plain);
    }

    // ---- helpers ----

    RunningAgent startAgent(String node, String url) {
        RunningAgent a = RunningAgent.start(servers, node, "--apiserver-url", url, "--apiserver-cacert",
                apiservers.get(node).caFile().toString());
        agents.put(node, a);
        return a;
    }

    void awaitHealth(RunningAgent agent, Predicate<HttpResponse<String>> wanted) {
        agent.awaitHealth(wanted, SOON, "as wanted");
    }

    JsonNode nodes() throws Exception {
        return new ObjectMapper().readTree(servers.on("node-1", "nodes", "-o", "json").out());
    }

    String stage() throws Exception {
        return new ObjectMapper().readTree(servers.on("node-1", "status", "-o", "json").out()).path("stage").asText();
    }
}
