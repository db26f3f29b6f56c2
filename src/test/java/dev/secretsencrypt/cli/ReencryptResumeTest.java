package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.envelope.ProviderChain;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A re-encryption killed with SIGKILL midway resumes from its checkpoint: no --force, no restart from zero. */
@Tag("cluster")
class ReencryptResumeTest {
    static final int SECRETS = 20_000;

    @TempDir
    Path tmp;
    SimulatedServers servers;

    @BeforeEach
    void oneServer() throws Exception {
        servers = new SimulatedServers(tmp);
    }

    Cli.Result se(String... command) {
        return servers.on("node-1", command);
    }

    static void ok(Cli.Result r) {
        assertEquals(0, r.exitCode(), r.all());
    }

    /** 20 000 Secrets under the old key, then prepare and rotate: ready for a long pass. Returns their plaintexts. */
    Map<String, byte[]> seededAndRotated() throws Exception {
        servers.putDefaultNamespace();
        ok(se("enable"));
        Envelope old = servers.chain("node-1").writer();
        Map<String, byte[]> plain = new HashMap<>();
        Random random = new Random(7);
        List<Op> batch = new ArrayList<>();
        for (int i = 0; i < SECRETS; i++) {
            String key = String.format("%s/secrets/ns-%02d/s-%05d", servers.etcdPrefix, i % 50, i);
            byte[] value = new byte[600 + random.nextInt(600)];
            random.nextBytes(value);
            System.arraycopy("k8s\0".getBytes(StandardCharsets.ISO_8859_1), 0, value, 0, 4); // as kube-apiserver stores
            plain.put(key, value);
            byte[] k = key.getBytes(StandardCharsets.UTF_8);
            batch.add(Op.put(ByteSequence.from(k), ByteSequence.from(old.seal(value, k)), PutOption.DEFAULT));
            if (batch.size() == 100 || i == SECRETS - 1) {
                servers.kv().txn().Then(batch.toArray(Op[]::new)).commit().get(30, TimeUnit.SECONDS);
                batch.clear();
            }
        }
        ok(se("sync"));
        ok(se("prepare"));
        ok(se("sync"));
        ok(se("rotate"));
        ok(se("sync"));

        return plain;
    }

    /** Starts reencrypt in a child JVM and stops it once its checkpoint moved: SIGKILL, or SIGTERM (as Ctrl-C). */
    long stoppedMidway(boolean kill) throws Exception {
        Process child = servers.child("node-1", "reencrypt").redirectErrorStream(true)
                .redirectOutput(tmp.resolve("child.log").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        long doneAtKill = 0;
        while (System.nanoTime() < deadline && child.isAlive()) {
            long done = servers.checkpointDone();
            if (done > 0) {
                doneAtKill = done;
                if (kill) {
                    child.destroyForcibly(); // SIGKILL: no shutdown hook, no lease revoke, no cleanup
                } else {
                    child.destroy(); // SIGTERM, as Ctrl-C's SIGINT: the shutdown hook runs
                }
                break;
            }
            Thread.sleep(5); // the point: the signal lands mid-pass, right after the checkpoint it waits for
        }
        assertTrue(child.waitFor(10, TimeUnit.SECONDS));
        assertTrue(doneAtKill > 0 && doneAtKill < SECRETS, "killed midway, at " + doneAtKill + ": "
                + Files.readString(tmp.resolve("child.log")));

        return doneAtKill;
    }

    @Test
    void aKilledPassResumesFromItsCheckpointAndEveryValueEndsUnderTheNewKey() throws Exception {
        Map<String, byte[]> plain = seededAndRotated();
        stoppedMidway(true);
        Cli.Result status = se("status");
        assertTrue(status.out().contains("Current Rotation Stage: reencrypt_active"), status.out());
        assertTrue(status.out().matches("(?s).*Reencryption: \\d+/" + SECRETS + " by node-1.*"), status.out());
        Cli.Result whileLeaseLives = se("reencrypt");
        assertEquals(1, whileLeaseLives.exitCode(), whileLeaseLives.all());
        assertTrue(whileLeaseLives.err().contains("running on node-1"), whileLeaseLives.err());

        String doneKey = servers.runRecord().orElseThrow().path("checkpoint").path("lastKeyDone")
                .path(servers.etcdPrefix + "/secrets/").asText();
        Map<String, Long> revisionsBefore = new HashMap<>();
        for (KeyValue kv : all()) {
            revisionsBefore.put(kv.getKey().toString(StandardCharsets.UTF_8), kv.getModRevision());
        }
        long leaseGone = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
        Cli.Result resumed;
        do {
            Thread.sleep(1000); // the point: an operator retrying once a second until the dead run's lease lapses
            resumed = se("reencrypt");
        } while (resumed.exitCode() != 0 && resumed.err().contains("running on node-1") && System.nanoTime() < leaseGone);
        assertEquals(0, resumed.exitCode(), resumed.all());
        assertTrue(resumed.out().startsWith("resumed from its checkpoint"), resumed.out());

        ok(se("sync"));
        ProviderChain now = servers.chain("node-1");
        String prefix = new String(now.writer().prefix(), StandardCharsets.UTF_8);
        List<KeyValue> after = all().stream().filter(kv -> kv.getKey().toString(StandardCharsets.UTF_8)
                .startsWith(servers.etcdPrefix + "/secrets/")).toList();
        assertEquals(SECRETS, after.size());
        for (KeyValue kv : after) {
            String key = kv.getKey().toString(StandardCharsets.UTF_8);
            assertTrue(kv.getValue().toString(StandardCharsets.ISO_8859_1).startsWith(prefix), key);
            assertArrayEquals(plain.get(key), now.open(kv.getValue().getBytes(), key.getBytes(StandardCharsets.UTF_8))
                    .plaintext(), key);
            if (!doneKey.isEmpty() && key.compareTo(doneKey) <= 0) {
                assertEquals(revisionsBefore.get(key), kv.getModRevision(), "rewritten twice: " + key);
            }
        }
        assertTrue(se("status").out().contains("Current Rotation Stage: reencrypt_finished"));
    }

    @Test
    void aStoppedPassSaysSoAndResumesAtOnceWithoutWaitingForItsLease() throws Exception {
        seededAndRotated();
        long doneAtStop = stoppedMidway(false);
        Cli.Result status = se("status");
        assertTrue(status.out().matches("(?s).*Reencryption: stopped at \\d+/" + SECRETS + " on node-1 \\(interrupted at "
                + ".*\\); run reencrypt on any server to resume from its checkpoint.*"), status.out());
        assertTrue(Files.readString(tmp.resolve("child.log")).matches("(?s).*reencrypt stopped with its checkpoint at "
                + "\\d+/" + SECRETS + " values \\(values past it already rewritten count as unchanged when it resumes\\); "
                + "the checkpoint is saved.*"), Files.readString(tmp.resolve("child.log")));
        Cli.Result resumed = se("reencrypt"); // at once: the stopped run revoked its lease
        assertEquals(0, resumed.exitCode(), resumed.all());
        assertTrue(resumed.out().startsWith("resumed from its checkpoint"), resumed.out());
        assertTrue(doneAtStop > 0);
    }

    List<KeyValue> all() throws Exception {
        return servers.valuesUnder(servers.etcdPrefix + "/");
    }
}
