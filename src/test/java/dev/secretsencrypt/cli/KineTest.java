package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.testing.Await;
import dev.secretsencrypt.testing.Kine;
import dev.secretsencrypt.testing.SimulatedApiserver;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's procedures on kine over SQLite, K3s' default datastore: kine takes single-key transactions only and
 * keeps leases as a time to live, so the state's CAS, the pass's writes, the report and owner liveness and the
 * agents' leader all take kine's shapes. A real kine process, simulated apiservers, agents in JVMs of their own.
 */
@Tag("kine")
class KineTest {
    static final List<String> SERVERS = List.of("node-1", "node-2");
    static Kine kine;

    @TempDir
    Path tmp;
    SimulatedServers servers;
    final Map<String, byte[]> plain = new ConcurrentHashMap<>();
    final Map<String, SimulatedApiserver> apiservers = new LinkedHashMap<>();
    final Map<String, Process> agents = new LinkedHashMap<>();

    @BeforeAll
    static void startKine() {
        kine = Kine.start();
        System.out.println("kine over " + kine.backend() + " at " + kine.endpoint());
    }

    @AfterAll
    static void stopKine() {
        kine.close();
    }

    @AfterEach
    void stopEverything() throws Exception {
        for (Process p : agents.values()) {
            p.destroy();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        apiservers.values().forEach(SimulatedApiserver::close);
    }

    static void ok(Cli.Result r) {
        assertEquals(0, r.exitCode(), r.all());
    }

    @Test
    void theManualStepsRotateOnKineAndAWriteDuringThePassKeepsItsLastValue() throws Exception {
        Envelope old = rotatedWith(400, true);
        // kube-apiserver writes with the new key the whole pass long, by CAS as it does: its last write must stay
        Envelope fresh = servers.chain("node-1").writer();
        AtomicBoolean writing = new AtomicBoolean(true);
        AtomicLong writes = new AtomicLong();
        Thread writer = new Thread(() -> writeWhile(writing, fresh, writes), "apiserver-writes");
        writer.start();
        Cli.Result pass = servers.on("node-1", "reencrypt");
        writing.set(false);
        writer.join();
        System.out.println("reencrypt on kine (" + writes.get() + " writes by the simulated apiserver meanwhile):\n"
                + pass.all());
        ok(pass);
        ok(servers.on("node-1", "sync")); // the old key retired: the file without it, as kube-apiserver's next start
        assertTrue(writes.get() > 0, "the apiserver wrote during the pass");
        Cli.Result verify = servers.on("node-1", "verify");
        ok(verify);
        Cli.Result status = servers.on("node-1", "status");
        System.out.println("status on kine:\n" + status.out());
        assertTrue(status.out().contains("All hashes match"), status.out());
        assertTrue(status.out().contains("Read from kine " + kine.endpoint()), status.out());
        servers.assertEveryValueUnderTheNewKey(List.of("node-1"), old, plain);

        // kine has no snapshot API: rotate-keys --snapshot-dir is refused before it changes anything
        String before = stage();
        Cli.Result snap = servers.on("node-1", "rotate-keys", "--snapshot-dir", tmp.resolve("snaps").toString());
        System.out.println("rotate-keys --snapshot-dir on kine:\n" + snap.all());
        assertEquals(1, snap.exitCode(), snap.all());
        assertTrue(snap.err().contains("kine at " + kine.endpoint() + " has no snapshot API"), snap.err());
        assertTrue(snap.err().contains("sqlite3") && snap.err().contains("nothing was changed"), snap.err());
        assertEquals(before, stage());
        assertFalse(Files.exists(tmp.resolve("snaps")), "nothing was created either");
    }

    @Test
    void agentsLeadReportAndRotateKeysOnKineAndAStoppedAgentsReportGoesStale() throws Exception {
        servers = new SimulatedServers(tmp, kine);
        servers.putDefaultNamespace();
        ok(servers.on("node-1", "enable"));
        for (String node : SERVERS) {
            ok(servers.on(node, "sync"));
        }
        Envelope old = servers.chain("node-1").writer();
        servers.seedSecrets(200, old, plain);
        for (String node : SERVERS) {
            SimulatedApiserver api = servers.apiserver(node, SimulatedApiserver.Mode.LAST_CONFIG_INFO);
            api.setLag(Duration.ofMillis(300));
            apiservers.put(node, api);
            startAgent(node);
        }
        awaitNodes(all -> all.size() == 2 && all.findParents("name").stream().allMatch(n ->
                n.path("source").asText().equals("apiserver") && !n.path("stale").asBoolean()),
                "both servers reported by their agents");
        Cli.Result done = servers.on("node-1", "rotate-keys", "--timeout", "1m", "--poll-interval-ms", "200");
        System.out.println("rotate-keys on kine with agents:\n" + done.all());
        ok(done);
        servers.assertEveryValueUnderTheNewKey(SERVERS, old, plain);
        String leads = Files.readString(tmp.resolve("node-1-agent.log")) + Files.readString(tmp.resolve("node-2-agent"
                + ".log"));
        assertTrue(leads.contains("leads the agents"), leads);

        // a stopped agent's report is stale once its alive key's time to live ran out (no lease to revoke on kine)
        long stopped = System.nanoTime();
        Process agent2 = agents.remove("node-2");
        agent2.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        awaitNodes(all -> all.findParents("name").stream().anyMatch(n -> n.path("name").asText().equals("node-2")
                && n.path("stale").asBoolean()), "node-2's report stale after its agent was killed");
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - stopped);
        System.out.println("node-2's report went stale " + seconds + " s after its agent was killed");
        assertTrue(seconds <= 25, seconds + " s");
    }

    @Test
    void aPassKilledOnKineResumesFromItsCheckpointOnceItsOwnerKeyLapsedAndLosesNothing() throws Exception {
        Envelope old = rotatedWith(3000, false);
        Process child = servers.child("node-1", "reencrypt").redirectErrorStream(true)
                .redirectOutput(tmp.resolve("child.log").toFile()).start();
        long doneAtKill = Await.until(Duration.ofSeconds(60), "the pass's first checkpoint", () -> {
            try {
                long done = servers.checkpointDone();
                return done > 0 ? java.util.Optional.of(done) : java.util.Optional.empty();
            } catch (Exception notYet) {
                return java.util.Optional.empty();
            }
        });
        child.destroyForcibly(); // SIGKILL: the owner key is left to kine's time to live
        assertTrue(child.waitFor(10, TimeUnit.SECONDS));
        Cli.Result refused = servers.on("node-1", "reencrypt");
        assertEquals(1, refused.exitCode(), refused.all());
        assertTrue(refused.err().contains("running on node-1"), refused.err());

        long killed = System.nanoTime();
        Cli.Result resumed = Await.until(Duration.ofSeconds(45), "reencrypt taking over once the owner key lapsed",
                () -> {
                    Cli.Result r = servers.on("node-1", "reencrypt");
                    return r.exitCode() == 0 ? java.util.Optional.of(r) : java.util.Optional.empty();
                });
        System.out.println("killed at " + doneAtKill + "/3000; resumed " + TimeUnit.NANOSECONDS.toSeconds(
                System.nanoTime() - killed) + " s later:\n" + resumed.all());
        assertTrue(resumed.out().startsWith("resumed from its checkpoint"), resumed.out());
        ok(servers.on("node-1", "sync"));
        servers.assertEveryValueUnderTheNewKey(List.of("node-1"), old, plain);
    }

    @Test
    void passAfterPassWhileOthersWriteEachClaimsAndReleasesItsOwnerKey() throws Exception {
        rotatedWith(300, false);
        ok(servers.on("node-1", "reencrypt"));
        ok(servers.on("node-1", "sync"));
        // writes elsewhere meanwhile, as a live cluster's: kine v0.17.5 then may answer a create over the deleted owner
        // key with another revision, and a claim renewed or released at that revision would be lost or left behind
        AtomicBoolean writing = new AtomicBoolean(true);
        List<Thread> others = new ArrayList<>();
        for (int t = 0; t < 16; t++) {
            int writer = t;
            Thread other = new Thread(() -> {
                for (long i = 0; writing.get(); i++) {
                    try {
                        servers.kv().put(ByteSequence.from("/elsewhere/" + writer + "/" + (i % 50), StandardCharsets.UTF_8),
                                ByteSequence.from("v" + i, StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }
            }, "elsewhere-" + t);
            other.start();
            others.add(other);
        }
        try {
            for (int pass = 1; pass <= 6; pass++) {
                Cli.Result r = servers.on("node-1", "reencrypt", "-f", "--skip");
                assertEquals(0, r.exitCode(), "pass " + pass + ": " + r.all());
                assertTrue(servers.kv().get(ByteSequence.from(servers.statePrefix + "reencrypt/owner",
                        StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS).getKvs().isEmpty(), "pass " + pass
                        + " left its owner key behind");
            }
        } finally {
            writing.set(false);
            for (Thread other : others) {
                other.join();
            }
        }
    }

    // ---- helpers ----

    /**
     * One server enabled on kine with {@code secrets} Secrets under the first key, then prepared and rotated (each step
     * synced, as a restart would), with its simulated apiserver when {@code apiserver}. Returns the first key.
     */
    Envelope rotatedWith(int secrets, boolean apiserver) throws Exception {
        servers = new SimulatedServers(tmp, kine);
        servers.putDefaultNamespace();
        ok(servers.on("node-1", "enable"));
        ok(servers.on("node-1", "sync"));
        Envelope old = servers.chain("node-1").writer();
        servers.seedSecrets(secrets, old, plain);
        if (apiserver) {
            apiservers.put("node-1", servers.apiserver("node-1", SimulatedApiserver.Mode.LAST_CONFIG_INFO));
        }
        for (String step : List.of("prepare", "rotate")) {
            ok(servers.on("node-1", step));
            ok(servers.on("node-1", "sync"));
        }
        return old;
    }

    /** CAS updates of 20 of the Secrets, as kube-apiserver makes them (compare mod_revision, put, else read). */
    void writeWhile(AtomicBoolean writing, Envelope with, AtomicLong writes) {
        List<String> keys = new ArrayList<>(plain.keySet()).subList(0, 20);
        int round = 0;
        while (writing.get()) {
            String key = keys.get(round++ % keys.size());
            try {
                ByteSequence k = ByteSequence.from(key, StandardCharsets.UTF_8);
                KeyValue now = servers.kv().get(k).get(10, TimeUnit.SECONDS).getKvs().get(0);
                byte[] value = ("k8s\0written during the pass " + round).getBytes(StandardCharsets.ISO_8859_1);
                boolean put = servers.kv().txn().If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(now.getModRevision())))
                        .Then(Op.put(k, ByteSequence.from(with.seal(value, key.getBytes(StandardCharsets.UTF_8))),
                                PutOption.DEFAULT)).Else(Op.get(k, GetOption.DEFAULT)).commit().get(10, TimeUnit.SECONDS)
                        .isSucceeded();
                if (put) {
                    plain.put(key, value);
                    writes.incrementAndGet();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
    }

    void startAgent(String node) throws Exception {
        SimulatedApiserver api = apiservers.get(node);
        agents.put(node, servers.child(node, "agent", "--apiserver-url", api.url().toString(), "--apiserver-cacert",
                api.caFile().toString(), "--metrics-address", "off", "--report-lease-seconds", "6",
                "--probe-interval-ms", "200", "--leader-recheck-ms", "1000").redirectErrorStream(true)
                .redirectOutput(tmp.resolve(node + "-agent.log").toFile()).start());
    }

    void awaitNodes(java.util.function.Predicate<JsonNode> matches, String what) {
        java.util.concurrent.atomic.AtomicReference<String> last = new java.util.concurrent.atomic.AtomicReference<>("");
        java.util.function.BooleanSupplier matched = Await.quietly(() -> {
            Cli.Result r = servers.on("node-1", "nodes", "-o", "json");
            last.set(r.all());
            return r.exitCode() == 0 && matches.test(new ObjectMapper().readTree(r.out()));
        });
        Await.until(Duration.ofSeconds(30), what, () -> matched.getAsBoolean() ? java.util.Optional.of(true)
                : java.util.Optional.empty(), last::get);
    }

    String stage() throws Exception {
        return new ObjectMapper().readTree(servers.on("node-1", "status", "-o", "json").out()).path("stage").asText();
    }
}
