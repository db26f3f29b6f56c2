package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.testing.Await;
import dev.secretsencrypt.testing.Kine;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent on kine, whose liveness is TTL keys re-written by the agent (no leases): once kine is killed /healthz and
 * /metrics answer at once, every time (they never wait for a renewal stuck in retries), the leader metric drops to 0
 * when the leader key may have lapsed, not when the leader's round gives up (about a minute later), and /healthz
 * turns 503 naming kine. A kine of its own: the kill must not disturb other tests.
 */
@Tag("kine")
class KineAgentHealthTest {
    /** The leader key's TTL (15 s) less its margin, and room for a loaded machine. */
    private static final Duration LEADER_GONE = Duration.ofSeconds(25);
    /** Without --apiserver-url there is no report lease: a round says it once etcd's retries give up. */
    private static final Duration UNHEALTHY = Duration.ofSeconds(90);

    @TempDir
    Path tmp;
    Kine kine;
    RunningAgent agent;

    @BeforeEach
    void ownKine() {
        kine = Kine.start();
    }

    @AfterEach
    void stop() throws Exception {
        if (agent != null) {
            agent.close();
        }
        kine.close();
    }

    @Test
    void withKineKilledHealthzAnswersAtOnceTurns503AndTheLeaderMetricDropsWithinTheTermThenAllComesBack()
            throws Exception {
        SimulatedServers servers = new SimulatedServers(tmp, kine);
        servers.putDefaultNamespace();
        assertEquals(0, servers.on("node-1", "enable").exitCode());
        assertEquals(0, servers.on("node-1", "sync").exitCode());
        agent = RunningAgent.start(servers, "node-1");
        agent.awaitHealth(r -> r.statusCode() == 200, Duration.ofSeconds(60), "ok");
        Await.until(Duration.ofSeconds(30), "node-1 leading", () -> leader() == 1);

        kine.kill();
        long killedAt = System.nanoTime();
        boolean unhealthy = false;
        boolean led = true;
        double slowest = 0;
        double leaderGone = -1;
        while (!(unhealthy && !led)) {
            double since = (System.nanoTime() - killedAt) / 1e9;
            assertTrue(since < (led ? LEADER_GONE : UNHEALTHY).toSeconds(), "after " + since + " s: /healthz 503 "
                    + unhealthy + ", leader metric still 1 " + led + "\n" + agent.log());
            long asked = System.nanoTime();
            HttpResponse<String> health = agent.get("/healthz");
            led = leader() == 1;
            if (!led && leaderGone < 0) {
                leaderGone = since;
            }
            slowest = Math.max(slowest, (System.nanoTime() - asked) / 1e9);
            unhealthy = health.statusCode() == 503;
            if (unhealthy) {
                assertTrue(health.body().contains("kine"), health.body());
            }
            Thread.sleep(500);
        }
        System.out.printf("kine killed: leader metric 0 after %.1f s, /healthz 503 after %.1f s; slowest answer of"
                + " /healthz and /metrics %.2f s%n", leaderGone, (System.nanoTime() - killedAt) / 1e9, slowest);
        assertTrue(slowest < 2, "/healthz or /metrics took " + slowest + " s while kine was away");

        kine.restart();
        agent.awaitHealth(r -> r.statusCode() == 200, Duration.ofSeconds(120), "ok once kine is back");
        Await.until(Duration.ofSeconds(60), "node-1 leading again", () -> leader() == 1);
    }

    private int leader() {
        try {
            String metrics = agent.get("/metrics").body();
            return Optional.of(metrics.lines().filter(l -> l.startsWith("secrets_encrypt_agent_leader ")).findFirst()
                    .orElse("secrets_encrypt_agent_leader 0")).map(l -> l.endsWith(" 1.0") || l.endsWith(" 1") ? 1 : 0)
                    .get();
        } catch (Exception e) {
            throw new IllegalStateException("cannot read the agent's /metrics", e);
        }
    }
}
