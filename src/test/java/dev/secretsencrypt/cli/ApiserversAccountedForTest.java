package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.testing.Await;
import dev.secretsencrypt.testing.SimulatedApiserver;
import io.etcd.jetcd.ByteSequence;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * No key becomes the writer or retires while a kube-apiserver runs that no registered server answers for, and what a
 * server that wrote with a retired key left behind is named until a pass rewrote it. Three servers reporting by sync,
 * each with a simulated kube-apiserver that renews its identity lease in etcd as a real one does.
 */
@Tag("etcd")
@Tag("datastore")
class ApiserversAccountedForTest {
    static final List<String> SERVERS = List.of("node-1", "node-2", "node-3");

    @TempDir
    Path tmp;
    SimulatedServers servers;
    final Map<String, SimulatedApiserver> apiservers = new HashMap<>();
    final Map<String, byte[]> plain = new HashMap<>();
    Envelope old;

    @BeforeEach
    void threeServersWithSecrets() throws Exception {
        servers = new SimulatedServers(tmp);
        servers.putDefaultNamespace();
        ok(servers.on("node-1", "enable"));
        for (String node : SERVERS) {
            ok(servers.on(node, "sync"));
            apiservers.put(node, servers.apiserver(node, SimulatedApiserver.Mode.LAST_CONFIG_INFO));
        }
        old = servers.chain("node-1").writer();
        servers.seedSecrets(40, old, plain);
    }

    @AfterEach
    void stopApiservers() {
        apiservers.values().forEach(SimulatedApiserver::close);
    }

    @Test
    void aServerWhoseApiserverStillRunsCannotBeForgottenAndOnceForgottenItsApiserverHoldsBackRotateAndReencrypt()
            throws Exception {
        Cli.Result forget = servers.on("node-1", "nodes", "forget", "node-3");
        System.out.println("nodes forget node-3 while its kube-apiserver runs:\n" + forget.all());
        assertEquals(1, forget.exitCode(), forget.all());
        assertTrue(forget.err().startsWith("Error: the kube-apiserver of node-3 still runs: its identity lease "
                + apiservers.get("node-3").identity() + " (host node-3) is still renewed"), forget.err());
        assertTrue(forget.err().contains("Stop kube-apiserver there first"), forget.err());

        // stopped cleanly, its apiserver deletes its identity lease: then it may go
        apiservers.remove("node-3").close();
        ok(servers.on("node-1", "nodes", "forget", "node-3"));

        // it comes back (its kube-apiserver started before anything ran sync there)
        apiservers.put("node-3", servers.apiserver("node-3", SimulatedApiserver.Mode.LAST_CONFIG_INFO));
        awaitLease("node-3");
        ok(servers.on("node-1", "prepare"));
        for (String node : List.of("node-1", "node-2")) {
            ok(servers.on(node, "sync"));
        }
        for (String command : List.of("rotate", "rotate -f")) {
            Cli.Result refused = servers.on("node-1", command.split(" "));
            System.out.println(command + " while node-3's kube-apiserver runs unaccounted for:\n" + refused.all());
            assertEquals(1, refused.exitCode(), refused.all());
            assertTrue(refused.err().startsWith("Error: rotate is refused: kube-apiserver on node-3 (identity lease "
                    + apiservers.get("node-3").identity() + ", renewed "), refused.err());
            assertTrue(refused.err().contains("runs, but no registered server reports for it"), refused.err());
            assertTrue(refused.err().contains("(-f does not skip this check"), refused.err());
        }
        assertTrue(servers.on("node-1", "status").out().contains("Server Encryption Hashes: kube-apiserver on node-3 "
                + "(identity lease "), servers.on("node-1", "status").out());

        // sync there registers it again (as its ExecStartPre does at its next start): the rotation goes on
        ok(servers.on("node-3", "sync"));
        ok(servers.on("node-1", "rotate"));
        for (String node : SERVERS) {
            ok(servers.on(node, "sync"));
        }
        ok(servers.on("node-1", "reencrypt"));
        SERVERS.forEach(n -> ok(servers.on(n, "sync")));
        servers.assertEveryValueUnderTheNewKey(SERVERS, old, plain);
    }

    @Test
    void whetherAnApiserverRunsIsSeenInEtcdNotReadOffAnyClock() throws Exception {
        ok(servers.on("node-1", "prepare"));
        SERVERS.forEach(n -> ok(servers.on(n, "sync")));
        // a kube-apiserver no server reports for, its clock 90 s behind: its renewals look a minute and a half old
        try (SimulatedApiserver behind = SimulatedApiserver.start(tmp.resolve("behind.json"),
                SimulatedApiserver.Mode.LAST_CONFIG_INFO, "node-5")) {
            behind.setClockOffset(Duration.ofSeconds(-90));
            behind.renewIdentityLease(servers.kv(), servers.etcdPrefix);
            awaitLease("node-5");
            Cli.Result refused = servers.on("node-1", "rotate", "-f");
            assertEquals(1, refused.exitCode(), refused.all());
            assertTrue(refused.err().contains("kube-apiserver on node-5 (identity lease " + behind.identity()),
                    refused.err());
            // killed: its last lease stays, stamped "now" by a clock an hour ahead; unchanged in etcd, it ran out
            behind.setClockOffset(Duration.ofHours(1));
            Thread.sleep(1500); // the point: one more renewal stamped an hour ahead lands before the kill
            behind.kill();
        }
        long t0 = System.nanoTime();
        ok(servers.on("node-1", "rotate"));
        long waited = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
        assertTrue(waited >= 14, "rotate judged the killed apiserver's lease before watching it: " + waited + " s");
    }

    @Test
    void aWrongEtcdPrefixShowsNoApiserverAtAllSoRotateIsRefused() {
        ok(servers.on("node-1", "prepare"));
        SERVERS.forEach(n -> ok(servers.on(n, "sync")));
        List<String> args = new ArrayList<>(servers.args("node-1", "rotate"));
        args.set(args.indexOf("--etcd-prefix") + 1, "/kubernetes.io");
        Cli.Result refused = servers.cli.run(args.toArray(String[]::new));
        assertEquals(1, refused.exitCode(), refused.all());
        assertTrue(refused.err().contains("there is no kube-apiserver data under /kubernetes.io"), refused.err());
    }

    @Test
    void anApiserverOfNoRegisteredServerRefusesReencryptAndRetirementEvenWithForce() throws Exception {
        ok(servers.on("node-1", "prepare"));
        SERVERS.forEach(n -> ok(servers.on(n, "sync")));
        ok(servers.on("node-1", "rotate"));
        SERVERS.forEach(n -> ok(servers.on(n, "sync")));
        // a fourth kube-apiserver on this etcd, set up without the tool: it writes with whatever its own file says
        try (SimulatedApiserver stranger = SimulatedApiserver.start(tmp.resolve("stranger.json"),
                SimulatedApiserver.Mode.LAST_CONFIG_INFO, "node-4").renewIdentityLease(servers.kv(), servers.etcdPrefix)) {
            awaitLease("node-4");
            for (String command : List.of("reencrypt", "reencrypt -f")) {
                Cli.Result refused = servers.on("node-1", command.split(" "));
                assertEquals(1, refused.exitCode(), refused.all());
                assertTrue(refused.err().contains("kube-apiserver on node-4 (identity lease " + stranger.identity()),
                        refused.err());
            }
            assertEquals("rotate", stage(), "a refused reencrypt changes nothing");
        }
        ok(servers.on("node-1", "reencrypt")); // stopped cleanly: its lease is gone
        SERVERS.forEach(n -> ok(servers.on(n, "sync")));
        servers.assertEveryValueUnderTheNewKey(SERVERS, old, plain);
    }

    @Test
    void aServerBackWithARetiredKeyAsItsWriterIsNamedBySyncAndStatusUntilReencryptRewroteWhatItWrote() throws Exception {
        byte[] startFile = Files.readAllBytes(servers.configFile("node-3"));
        rotateEverywhere();
        assertEquals("All hashes match", hashLine());

        // node-3 restored from a backup: its apiserver writes Secrets with the key the cluster retired
        Files.write(servers.configFile("node-3"), startFile);
        Map<String, byte[]> written = new HashMap<>();
        for (int i = 0; i < 5; i++) {
            String key = servers.etcdPrefix + "/secrets/back/written-" + i;
            byte[] value = ("k8s\0written by node-3 " + i).getBytes(StandardCharsets.ISO_8859_1);
            byte[] k = key.getBytes(StandardCharsets.UTF_8);
            servers.kv().put(ByteSequence.from(k), ByteSequence.from(old.seal(value, k))).get(10, TimeUnit.SECONDS);
            written.put(key, value);
        }
        Cli.Result sync = servers.on("node-3", "sync");
        System.out.println("sync on node-3 with a retired key as its writer:\n" + sync.all());
        assertEquals(0, sync.exitCode(), sync.all());
        assertTrue(sync.out().contains("warning: " + servers.configFile("node-3") + " had aescbc/aescbckey (retired "),
                sync.out());
        assertTrue(sync.out().contains("as its writer: kube-apiserver on this server may have written Secrets with it "
                + "that no other server can read"), sync.out());

        String status = servers.on("node-1", "status").out();
        System.out.println("status:\n" + status);
        assertTrue(hashLine().startsWith("node-3 had the retired key aescbc/aescbckey as its writer (found "), status);
        JsonNode json = new ObjectMapper().readTree(servers.on("node-2", "status", "-o", "json").out());
        assertFalse(json.path("hashmatch").asBoolean(), json.toString());
        Cli.Result verify = servers.on("node-2", "verify");
        assertEquals(1, verify.exitCode(), verify.all());

        // a --skip pass has no confirming scan: the finding stays until a pass that has one
        ok(servers.on("node-1", "reencrypt", "-f", "--skip"));
        assertTrue(hashLine().startsWith("node-3 had the retired key"), hashLine());
        // at reencrypt_finished, no -f: the values a retired key wrote are rewritten, and the finding is cleared
        Cli.Result reencrypt = servers.on("node-1", "reencrypt");
        System.out.println("reencrypt:\n" + reencrypt.all());
        assertEquals(0, reencrypt.exitCode(), reencrypt.all());
        assertEquals("All hashes match", hashLine());
        ok(servers.on("node-2", "verify"));
        plain.putAll(written);
        SERVERS.forEach(n -> ok(servers.on(n, "sync")));
        servers.assertEveryValueUnderTheNewKey(SERVERS, old, plain);
    }

    @Test
    void aCleanPassAfterWhichAnOldKeyStillHasValuesRetiresNothingAndSaysSomeApiserverStillWritesWithIt()
            throws Exception {
        servers.seedSecrets(1500, old, plain);
        ok(servers.on("node-1", "prepare"));
        SERVERS.forEach(n -> ok(servers.on(n, "sync")));
        ok(servers.on("node-1", "rotate"));
        SERVERS.forEach(n -> ok(servers.on(n, "sync")));
        // a kube-apiserver the reports cannot see keeps writing with the old key the whole time
        AtomicBoolean stop = new AtomicBoolean();
        AtomicInteger writes = new AtomicInteger();
        Thread writer = new Thread(() -> {
            while (!stop.get()) {
                String key = String.format("%s/secrets/ns-%02d/s-%05d", servers.etcdPrefix, 0, 0);
                byte[] k = key.getBytes(StandardCharsets.UTF_8);
                try {
                    servers.kv().put(ByteSequence.from(k), ByteSequence.from(old.seal(plain.get(key), k)))
                            .get(10, TimeUnit.SECONDS);
                    writes.incrementAndGet();
                    Thread.sleep(20); // the point: an apiserver's pace, so the pass's compare-and-swap gets its turn
                } catch (Exception e) {
                    return;
                }
            }
        });
        writer.start();
        Cli.Result run;
        try {
            run = servers.on("node-1", "reencrypt");
        } finally {
            stop.set(true);
            writer.join();
        }
        System.out.println("reencrypt while an unseen apiserver writes with the old key (" + writes.get() + " writes):\n"
                + run.all());
        assertEquals(1, run.exitCode(), run.all());
        assertTrue(run.err().contains("no key retired: 1 value(s) still under aescbc/aescbckey after a clean pass over "
                + "every resource it protects, so some kube-apiserver still writes with it"), run.err());
        assertEquals("rotate", stage(), "back to the stage it started from: reencrypt runs again without -f");
        assertEquals(2, servers.on("node-1", "status").out().lines().filter(l -> l.contains("AES-CBC")).count());
        ok(servers.on("node-1", "reencrypt"));
        SERVERS.forEach(n -> ok(servers.on(n, "sync")));
        servers.assertEveryValueUnderTheNewKey(SERVERS, old, plain);
    }

    @Test
    void aTempCopyAKilledWriteLeftIsRemovedByStatusAndNodesOnceItIsTenSecondsOld() throws Exception {
        Path dir = servers.configFile("node-1").getParent();
        List<Path> leftovers = new ArrayList<>();
        for (String name : List.of(".encryption-config.json.1234.tmp", ".encryption-state.json.5678.tmp",
                ".cluster.json.42.tmp")) {
            Path p = dir.resolve(name);
            Files.write(p, Files.readAllBytes(servers.configFile("node-1")));
            Files.setLastModifiedTime(p, FileTime.from(Instant.now().minusSeconds(11)));
            leftovers.add(p);
        }
        Path young = dir.resolve(".encryption-config.json.999.tmp"); // a write in flight elsewhere: left alone
        Files.write(young, new byte[] {1});
        ok(servers.on("node-1", "status"));
        for (Path p : leftovers) {
            assertFalse(Files.exists(p), p + " left behind by status");
        }
        assertTrue(Files.exists(young));
        Files.setLastModifiedTime(young, FileTime.from(Instant.now().minusSeconds(11)));
        ok(servers.on("node-1", "nodes"));
        assertFalse(Files.exists(young), "left behind by nodes");
    }

    // ---- helpers ----

    void rotateEverywhere() {
        ok(servers.on("node-1", "prepare"));
        SERVERS.forEach(n -> ok(servers.on(n, "sync")));
        ok(servers.on("node-1", "rotate"));
        SERVERS.forEach(n -> ok(servers.on(n, "sync")));
        Cli.Result r = servers.on("node-1", "reencrypt");
        ok(r);
        assertTrue(r.out().contains("retired aescbc/aescbckey (no stored value uses it;"), r.out());
        SERVERS.forEach(n -> ok(servers.on(n, "sync")));
    }

    /** Until the identity lease of {@code host}'s apiserver is stored (its first renewal). */
    void awaitLease(String host) throws Exception {
        String key = servers.etcdPrefix + "/leases/kube-system/"
                + dev.secretsencrypt.apiserver.ApiserverIdentity.ofHostname(host).leaseName();
        Await.until(Duration.ofSeconds(10), "the identity lease of " + host, Await.quietly(() -> !servers.kv()
                .get(ByteSequence.from(key, StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS).getKvs().isEmpty()));
    }

    String hashLine() {
        return servers.on("node-1", "status").out().lines().filter(l -> l.startsWith("Server Encryption Hashes: "))
                .findFirst().orElseThrow().substring("Server Encryption Hashes: ".length());
    }

    String stage() throws Exception {
        return new ObjectMapper().readTree(servers.on("node-1", "status", "-o", "json").out()).path("stage").asText();
    }

    static void ok(Cli.Result r) {
        assertEquals(0, r.exitCode(), r.all());
    }
}
