package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.envelope.ProviderChain;
import dev.secretsencrypt.testing.EtcdCluster;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HA runbook on a three-member etcd: three servers, each talking to its own etcd member, one token.
 * enable → sync ×3 → prepare → rotate refused → sync ×3 → rotate → sync ×3 → identical files everywhere.
 * Tag cluster: three members, and a member lost mid-pass.
 */
@Tag("cluster")
@Tag("failover")
class HaRotationTest {
    static EtcdCluster etcd;
    static final List<String> NODES = List.of("node-1", "node-2", "node-3");

    @TempDir
    Path tmp;
    final Cli cli = new Cli();

    @BeforeAll
    static void threeMembers() {
        etcd = EtcdCluster.start(3);
    }

    @BeforeEach
    void emptyCluster() throws Exception {
        etcd.deleteAllKeys();
        // kube-apiserver's data: rotate looks for the apiservers that run under its prefix
        etcd.client().getKVClient().put(ByteSequence.from("/registry/namespaces/default", StandardCharsets.UTF_8),
                ByteSequence.from("k8s\0namespace", StandardCharsets.ISO_8859_1)).get(10, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() {
        etcd.close();
    }

    Path file(String node) {
        return tmp.resolve(node).resolve("encryption-config.json");
    }

    Cli.Result on(String node, String... args) throws Exception {
        Path token = tmp.resolve("token");
        if (!Files.exists(token)) {
            Cli.writeToken(token, "K10ha-cluster-token");
        }
        int member = NODES.indexOf(node);
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("-d", tmp.resolve(node).toString(), "--node-name", node,
                "--endpoints", etcd.endpoint(member), "--token-file", token.toString()));
        Cli.Result r = cli.run(all.toArray(String[]::new));
        return r;
    }

    /** A kube-apiserver's data under /registry, encryption enabled and synced everywhere: the key it writes with. */
    Envelope enabledOnEveryServer(KV kv) throws Exception {
        assertEquals(0, on("node-1", "enable").exitCode());
        syncEveryServer();
        return ProviderChain.of(ConfigFiles.read(file("node-1")).secretsRule().orElseThrow().providers()).writer();
    }

    void syncEveryServer() throws Exception {
        for (String node : NODES) {
            Cli.Result r = on(node, "sync");
            assertEquals(0, r.exitCode(), r.all());
        }
    }

    @Test
    void rotationWaitsForEveryServerAndEndsWithByteIdenticalFiles() throws Exception {
        assertEquals(0, on("node-1", "enable").exitCode());
        syncEveryServer();
        assertTrue(on("node-2", "status").out().contains("All hashes match"));

        assertEquals(0, on("node-1", "prepare").exitCode());
        Cli.Result refused = on("node-1", "rotate");
        assertEquals(1, refused.exitCode());
        assertTrue(refused.err().contains("Restart kube-apiserver on node-1, node-2, node-3"), refused.err());

        // one server restarted: still refused, and the message names only the two left
        assertEquals(0, on("node-1", "sync").exitCode());
        Cli.Result partial = on("node-3", "rotate");
        assertEquals(1, partial.exitCode());
        assertTrue(partial.err().contains("Restart kube-apiserver on node-2, node-3"), partial.err());
        Cli.Result mismatch = on("node-1", "status");
        assertTrue(mismatch.out().contains("Server Encryption Hashes: hash does not match between node-1 and node-2"),
                mismatch.out());
        assertTrue(mismatch.out().matches("(?s).*\nnode-2  start-[0-9a-f]{64} +from file  needs restart\n.*"), mismatch.out());
        assertFalse(mismatch.out().contains("node-1  prepare-") && mismatch.out().matches("(?s).*node-1  prepare-[0-9a-f]{64} +"
                + "from file  needs restart.*"), "node-1 loaded the prepared config");

        syncEveryServer();
        Cli.Result rotate = on("node-2", "rotate");
        assertEquals(0, rotate.exitCode(), rotate.all());
        syncEveryServer();
        byte[] first = Files.readAllBytes(file("node-1"));
        for (String node : NODES) {
            assertArrayEquals(first, Files.readAllBytes(file(node)), node + " has another file");
        }
        Cli.Result status = on("node-3", "status");
        assertTrue(status.out().contains("Current Rotation Stage: rotate"), status.out());
        assertTrue(status.out().contains("All hashes match"), status.out());
        assertEquals(3, status.out().lines().filter(l -> l.matches("node-\\d  rotate-[0-9a-f]{64}  from file")).count(),
                status.out());
    }

    @Test
    void reencryptionFromOneServerLeavesEveryServerWithTheSameFileAndNoOldKey() throws Exception {
        KV kv = etcd.client().getKVClient();
        Envelope old = enabledOnEveryServer(kv);
        Map<String, byte[]> plain = new HashMap<>();
        for (int i = 0; i < 200; i++) {
            String key = "/registry/secrets/ns/s-" + i;
            byte[] value = ("k8s\0secret-" + i).getBytes(StandardCharsets.ISO_8859_1);
            plain.put(key, value);
            byte[] k = key.getBytes(StandardCharsets.UTF_8);
            kv.put(ByteSequence.from(k), ByteSequence.from(old.seal(value, k))).get(10, TimeUnit.SECONDS);
        }
        assertEquals(0, on("node-1", "prepare").exitCode());
        syncEveryServer();
        assertEquals(0, on("node-1", "rotate").exitCode());
        Cli.Result early = on("node-2", "reencrypt");
        assertEquals(1, early.exitCode(), "node-2 and node-3 have not loaded the rotated config yet");
        syncEveryServer();
        Cli.Result run = on("node-2", "reencrypt");
        assertEquals(0, run.exitCode(), run.all());
        assertTrue(run.out().contains("retired aescbc/aescbckey"), run.out());
        syncEveryServer();
        byte[] first = Files.readAllBytes(file("node-1"));
        for (String node : NODES) {
            assertArrayEquals(first, Files.readAllBytes(file(node)), node + " has another file");
        }
        ProviderChain now = ProviderChain.of(ConfigFiles.read(file("node-3")).secretsRule().orElseThrow().providers());
        assertEquals(1, now.readOrder().stream().filter(e -> e.description().startsWith("aescbc/")).count(),
                "only the new key is left in the file");
        try (Client third = etcd.clientFor(2)) { // read back through another member than the writer's
            for (Map.Entry<String, byte[]> e : plain.entrySet()) {
                byte[] k = e.getKey().getBytes(StandardCharsets.UTF_8);
                byte[] stored = third.getKVClient().get(ByteSequence.from(k)).get(10, TimeUnit.SECONDS)
                        .getKvs().get(0).getValue().getBytes();
                assertArrayEquals(e.getValue(), now.open(stored, k).plaintext(), e.getKey());
            }
        }
        Cli.Result verify = on("node-3", "verify");
        assertEquals(0, verify.exitCode(), verify.all());
    }

    @Test
    void losingOneEtcdMemberDoesNotStopTheServersTalkingToTheOthers() throws Exception {
        assertEquals(0, on("node-1", "enable").exitCode());
        syncEveryServer();
        etcd.killMember(2);
        etcd.awaitHealthy(); // if member 2 led, the survivors elect a new leader first
        try {
            assertEquals(0, on("node-1", "prepare", "-f").exitCode());
            assertEquals(0, on("node-2", "sync").exitCode());
            assertEquals(1, on("node-3", "status", "--etcd-timeout", "2").exitCode());
        } finally {
            etcd.startMember(2);
        }
    }

    @Test
    void aPassRidesThroughLosingAnEtcdMemberWhileTheQuorumHolds() throws Exception {
        KV kv = etcd.client().getKVClient();
        Envelope old = enabledOnEveryServer(kv);
        List<Op> batch = new ArrayList<>();
        int secrets = 20_000;
        for (int i = 0; i < secrets; i++) {
            byte[] k = String.format("/registry/secrets/ns-%02d/s-%05d", i % 20, i).getBytes(StandardCharsets.UTF_8);
            batch.add(Op.put(ByteSequence.from(k), ByteSequence.from(old.seal(("k8s\0secret " + i)
                    .getBytes(StandardCharsets.ISO_8859_1), k)), PutOption.DEFAULT));
            if (batch.size() == 100) {
                kv.txn().Then(batch.toArray(Op[]::new)).commit().get(30, TimeUnit.SECONDS);
                batch.clear();
            }
        }
        assertEquals(0, on("node-1", "prepare").exitCode());
        syncEveryServer();
        assertEquals(0, on("node-1", "rotate").exitCode());
        syncEveryServer();

        List<String> args = new ArrayList<>(List.of("reencrypt", "-d", tmp.resolve("node-1").toString(), "--node-name",
                "node-1", "--endpoints", etcd.endpointsCsv(), "--token-file", tmp.resolve("token").toString()));
        ExecutorService runner = Executors.newSingleThreadExecutor();
        Future<Cli.Result> run = runner.submit(() -> cli.run(args.toArray(String[]::new)));
        try {
            Pattern done = Pattern.compile("\"done\"\\s*:\\s*(\\d+)");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            long progress = 0;
            while (progress < 2_000 && !run.isDone() && System.nanoTime() < deadline) {
                Thread.sleep(20); // the point: the member dies once the pass is well under way (2 000 values)
                List<io.etcd.jetcd.KeyValue> record = kv.get(ByteSequence.from("/secrets-encrypt/reencrypt/run",
                        StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS).getKvs();
                Matcher m = record.isEmpty() ? null : done.matcher(record.get(0).getValue().toString(StandardCharsets.UTF_8));
                progress = m != null && m.find() ? Long.parseLong(m.group(1)) : 0;
            }
            assertTrue(progress >= 2_000 && !run.isDone(), "the member must go while the pass runs: " + progress);
            etcd.killMember(0);
            Cli.Result result = run.get(120, TimeUnit.SECONDS);
            assertEquals(0, result.exitCode(), result.all());
            assertTrue(result.out().contains("reencrypted " + secrets + " values") || result.out().contains("retired"),
                    result.out());
        } finally {
            runner.shutdownNow();
            etcd.startMember(0);
            etcd.awaitHealthy();
        }
        assertEquals(0, on("node-2", "verify").exitCode());
    }

    @Test
    void forceNeverRetiresAKeyWhileTwoServersWereNeverRestarted() throws Exception {
        KV kv = etcd.client().getKVClient();
        enabledOnEveryServer(kv);
        assertEquals(0, on("node-1", "prepare").exitCode());
        assertEquals(0, on("node-1", "sync").exitCode()); // node-2 and node-3 never restarted
        byte[] before = Files.readAllBytes(file("node-1"));
        Cli.Result rotate = on("node-1", "rotate", "-f");
        assertEquals(1, rotate.exitCode(), rotate.all());
        assertTrue(rotate.err().contains("Restart kube-apiserver on node-2, node-3"), rotate.err());
        assertTrue(rotate.err().contains("-f does not skip this check"), rotate.err());
        Cli.Result reencrypt = on("node-1", "reencrypt", "-f");
        assertEquals(1, reencrypt.exitCode(), reencrypt.all());
        assertTrue(reencrypt.err().contains("node-2, node-3"), reencrypt.err());
        assertEquals(0, on("node-1", "sync").exitCode());
        assertArrayEquals(before, Files.readAllBytes(file("node-1")), "refused: nothing changed, no key retired");
        assertTrue(on("node-1", "status").out().contains("Current Rotation Stage: prepare"));
    }

    @Test
    void aValueOnlyARetiredKeyOpensIsUnreadableForVerifyUntilReencryptRewritesIt() throws Exception {
        KV kv = etcd.client().getKVClient();
        Envelope old = enabledOnEveryServer(kv);
        assertEquals(0, on("node-1", "prepare").exitCode());
        syncEveryServer();
        assertEquals(0, on("node-1", "rotate").exitCode());
        syncEveryServer();
        assertEquals(0, on("node-1", "reencrypt").exitCode(), "retires aescbckey: no value under it yet");
        syncEveryServer();
        String restored = "/registry/secrets/ns/restored-from-a-snapshot";
        byte[] k = restored.getBytes(StandardCharsets.UTF_8);
        kv.put(ByteSequence.from(k), ByteSequence.from(old.seal("k8s\0old secret".getBytes(StandardCharsets.ISO_8859_1),
                k))).get(10, TimeUnit.SECONDS);
        Cli.Result verify = on("node-2", "verify");
        assertEquals(1, verify.exitCode(), verify.all());
        assertTrue(verify.out().contains("Readable only with a retired key (kube-apiserver cannot read them): 1\n  "
                + restored), verify.out());
        assertTrue(verify.err().contains("run reencrypt"), verify.err());
        assertEquals(0, on("node-1", "prepare").exitCode());
        syncEveryServer();
        assertEquals(0, on("node-1", "rotate").exitCode());
        syncEveryServer();
        Cli.Result again = on("node-1", "reencrypt");
        assertEquals(0, again.exitCode(), again.all());
        syncEveryServer();
        assertEquals(0, on("node-3", "verify").exitCode());
    }
}
