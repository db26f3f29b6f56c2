package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.secretsencrypt.testing.Await;
import dev.secretsencrypt.testing.EtcdCluster;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Predicate;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent's /healthz follows etcd: ok while it reaches etcd, 503 with the reason once its only etcd member is
 * killed, ok again once the member is back (and its report fresh again). A one-member cluster of its own: the kill
 * must not disturb other tests.
 */
@Tag("cluster")
class AgentHealthTest {
    @TempDir
    Path tmp;
    EtcdCluster etcd;
    RunningAgent agent;

    @BeforeEach
    void oneMember() {
        etcd = EtcdCluster.start(1);
    }

    @AfterEach
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        etcd.close();
    }

    @Test
    void healthzTurns503WithTheReasonWhileEtcdIsDownAndOkOnceItIsBack() throws Exception {
        SimulatedServers servers = new SimulatedServers(tmp, etcd);
        servers.putDefaultNamespace();
        Cli.Result enabled = servers.on("node-1", "enable");
        assertEquals(0, enabled.exitCode(), enabled.all());
        Cli.Result synced = servers.on("node-1", "sync"); // without --apiserver-url the report is sync's
        assertEquals(0, synced.exitCode(), synced.all());
        agent = RunningAgent.start(servers, "node-1");
        agent.awaitLine(l -> l.contains("agent started on node-1"), Duration.ofSeconds(60), "its start");
        // the report is logged before the round ends with the servers' list: /metrics has it a moment later
        HttpResponse<String> metrics = Await.until(Duration.ofSeconds(5), "the servers' list on /metrics", () -> {
            try {
                return Optional.of(agent.get("/metrics")).filter(m -> m.body().contains("secrets_encrypt_server_loaded"));
            } catch (Exception notYet) {
                return Optional.empty();
            }
        });
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.body().contains("\nsecrets_encrypt_stage{stage=\"start\"} 1.0\n"), metrics.body());
        assertTrue(metrics.body().contains("\nsecrets_encrypt_server_loaded{node=\"node-1\",source=\"file\"} 1.0\n"),
                metrics.body());
        HttpResponse<String> healthy = awaitHealth(r -> r.statusCode() == 200, "ok");
        assertEquals("ok\n", healthy.body());

        etcd.killMember(0);
        long killedAt = System.nanoTime();
        HttpResponse<String> down = awaitHealth(r -> r.statusCode() == 503, "503 with etcd down");
        double after = (System.nanoTime() - killedAt) / 1e9;
        System.out.printf("/healthz 503 %.1f s after etcd was killed: %s", after, down.body());
        // about the report lease (4 s), not the ~50 s a round spends retrying etcd before it gives up
        assertTrue(after < 15, "503 only after " + after + " s");
        assertTrue(down.body().startsWith("unhealthy: ") && down.body().contains("etcd"), down.body());

        etcd.startMember(0);
        long backAt = System.nanoTime();
        HttpResponse<String> back = awaitHealth(r -> r.statusCode() == 200, "ok once etcd is back");
        System.out.printf("/healthz ok %.1f s after etcd was back%n", (System.nanoTime() - backAt) / 1e9);
        assertEquals("ok\n", back.body());
        Await.until(Duration.ofSeconds(60), "node-1's report fresh again after etcd came back",
                () -> Optional.of(servers.on("node-1", "nodes").out())
                        .filter(nodes -> nodes.matches("(?s).*\nnode-1 .* yes(\n.*|$)")), agent::log);
    }

    @Test
    void anAgentWithoutTheApiserverOnAServerThatNeverReportedIsUnhealthyAndSaysToRunSync() throws Exception {
        SimulatedServers servers = new SimulatedServers(tmp, etcd);
        servers.putDefaultNamespace();
        assertEquals(0, servers.on("node-1", "enable").exitCode());
        agent = RunningAgent.start(servers, "node-2"); // never synced: its apiserver would be in no check
        HttpResponse<String> unhealthy = awaitHealth(r -> r.statusCode() == 503, "503 for a server with no report");
        assertTrue(unhealthy.body().contains("node-2 has no report, so it is in no check before a key is made active "
                + "or retired: run sync here"), unhealthy.body());
        assertTrue(agent.log().contains("node-2 has no report"), agent.log());
        assertEquals(0, servers.on("node-2", "sync").exitCode());
        assertEquals("ok\n", awaitHealth(r -> r.statusCode() == 200, "ok once node-2 reported").body());
    }

    @Test
    void aSyncByHandLeavesTheReportToARunningAgentThatCannotSeeItsApiserverYet() throws Exception {
        SimulatedServers servers = new SimulatedServers(tmp, etcd);
        servers.putDefaultNamespace();
        assertEquals(0, servers.on("node-1", "enable").exitCode());
        assertEquals(0, servers.on("node-1", "sync").exitCode()); // registered at kube-apiserver's start
        int closed;
        try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
            closed = s.getLocalPort();
        }
        agent = RunningAgent.start(servers, "node-1", "--apiserver-url", "https://127.0.0.1:" + closed);
        agent.awaitLine(l -> l.contains("cannot tell what kube-apiserver loaded"), Duration.ofSeconds(60),
                "that it cannot reach its apiserver");
        assertEquals(0, servers.on("node-1", "prepare").exitCode());
        Cli.Result synced = servers.on("node-1", "sync"); // by hand, no restart: nobody saw a load
        assertEquals(0, synced.exitCode(), synced.all());
        assertTrue(synced.out().contains("left the report of node-1 to its agent"), synced.out());
        Cli.Result rotate = servers.on("node-1", "rotate");
        assertEquals(1, rotate.exitCode(), rotate.all());
        assertTrue(rotate.err().contains("node-1"), rotate.err());
    }

    @Test
    void anApiserverUrlThatIsNotThisMachineIsRefused() throws Exception {
        SimulatedServers servers = new SimulatedServers(tmp, etcd);
        assertEquals(0, servers.on("node-1", "enable").exitCode());
        // a TEST-NET address: never one of this machine's; through a load balancer any apiserver could answer
        Cli.Result refused = servers.on("node-1", "agent", "--apiserver-url", "https://192.0.2.10:6443");
        assertEquals(1, refused.exitCode(), refused.all());
        assertTrue(refused.err().contains("--apiserver-url names 192.0.2.10, which is not an address of this machine"),
                refused.err());
    }

    HttpResponse<String> awaitHealth(Predicate<HttpResponse<String>> wanted, String what) {
        return agent.awaitHealth(wanted, Duration.ofSeconds(90), what);
    }
}
