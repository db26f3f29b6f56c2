package dev.secretsencrypt.reencrypt;

import static dev.secretsencrypt.reencrypt.RotationKeys.ACTIVE_CBC;
import static dev.secretsencrypt.reencrypt.RotationKeys.OLD_BOX_ENVELOPE;
import static dev.secretsencrypt.reencrypt.RotationKeys.OLD_CBC_ENVELOPE;
import static dev.secretsencrypt.reencrypt.RotationKeys.OLD_GCM_ENVELOPE;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.secretsencrypt.config.EncryptionConfig;
import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.config.KmsProvider;
import dev.secretsencrypt.config.ResourceRule;
import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.envelope.Envelopes;
import dev.secretsencrypt.envelope.Opened;
import dev.secretsencrypt.envelope.ProviderChain;
import dev.secretsencrypt.testing.EtcdCluster;
import dev.secretsencrypt.testing.ExternalTools;
import dev.secretsencrypt.store.EtcdPrefix;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The pass against a real etcd: what it rewrites, what it leaves alone, and how it survives interference. */
@Tag("etcd")
class PassTest {
    private static final List<String> RESOURCES = List.of("secrets", "configmaps", "widgets.example.com");
    private static final List<Envelope> OLD = List.of(OLD_CBC_ENVELOPE, OLD_GCM_ENVELOPE, OLD_BOX_ENVELOPE,
            Envelopes.identity());
    // Small pages and batches, so a few hundred values cross many pages and transactions.
    private static final PassSettings SMALL = new PassSettings(25, 10, 1 << 20, Duration.ofSeconds(30), false);

    private SeededEtcd etcd;
    private List<Target> targets;
    private ProviderChain chain;

    @BeforeEach
    void start() {
        etcd = SeededEtcd.open();
        targets = Targets.resolve(RotationKeys.config(RESOURCES), EtcdPrefix.of(etcd.root), List.of(), List.of());
        chain = targets.get(0).chain();
    }

    @AfterEach
    void clean() throws Exception {
        etcd.close();
    }

    @Test
    void everyValueEndsUnderTheActiveKeyAndOpensToExactlyItsOldPlaintext() throws Exception {
        Map<String, byte[]> plaintexts = seedMixed(240, 40);
        String outside = etcd.root + "/secretsfoo/default/not-mine";
        byte[] outsideValue = etcd.seal(OLD_CBC_ENVELOPE, outside, "k8s\0other".getBytes(UTF_8));
        etcd.put(outside, outsideValue);
        Map<String, Long> activeRevisions = revisionsUnder(ACTIVE_CBC, plaintexts.keySet());
        List<Checkpoint> seen = new ArrayList<>();

        PassResult result = new Pass(etcd.kv, targets, SMALL).run(Checkpoint.start(), seen::add);

        for (Map.Entry<String, byte[]> e : plaintexts.entrySet()) {
            KeyValue now = etcd.get(e.getKey());
            Opened opened = chain.open(now.getValue().getBytes(), e.getKey().getBytes(UTF_8));
            assertActive(opened, e.getKey());
            assertArrayEquals(e.getValue(), opened.plaintext(), e.getKey());
            if (activeRevisions.containsKey(e.getKey())) {
                assertEquals(activeRevisions.get(e.getKey()), now.getModRevision(), "rewrote " + e.getKey());
            }
        }
        assertArrayEquals(outsideValue, etcd.get(outside).getValue().getBytes(), "/secretsfoo/ is not /secrets/");
        Checkpoint end = result.checkpoint();
        assertEquals(new Checkpoint(finished(), 280, 280, 240, 40, 0, List.of()), end);
        assertEquals(Map.of(), result.remainingByEnvelope());
        assertTrue(end.finishedAll(targets));
        assertMonotonic(seen);
        assertEquals(end, seen.get(seen.size() - 1));
    }

    @Test
    void aescbcValuesItWroteDecryptWithOpenssl(@TempDir Path dir) throws Exception {
        assumeTrue(ExternalTools.succeeds("openssl", "version"), "openssl is missing");
        Random random = new Random(7);
        Map<String, byte[]> plaintexts = new TreeMap<>();
        for (int i = 0; i < 6; i++) {
            String key = etcd.root + "/secrets/default/s" + i;
            byte[] plaintext = SeededEtcd.plaintext(random, new int[] {4, 15, 16, 17, 600, 4000}[i]);
            plaintexts.put(key, plaintext);
            etcd.put(key, etcd.seal(OLD.get(i % OLD.size()), key, plaintext));
        }

        new Pass(etcd.kv, targets, PassSettings.defaults()).run(Checkpoint.start(), c -> { });

        byte[] secret = RotationKeys.ACTIVE.secretBytes();
        for (Map.Entry<String, byte[]> e : plaintexts.entrySet()) {
            byte[] stored = etcd.get(e.getKey()).getValue().getBytes();
            byte[] prefix = ACTIVE_CBC.prefix();
            assertArrayEquals(prefix, Arrays.copyOf(stored, prefix.length));
            Path in = dir.resolve("ciphertext");
            Files.write(in, Arrays.copyOfRange(stored, prefix.length + 16, stored.length));
            Process openssl = new ProcessBuilder("openssl", "enc", "-d", "-aes-256-cbc",
                    "-K", HexFormat.of().formatHex(secret),
                    "-iv", HexFormat.of().formatHex(Arrays.copyOfRange(stored, prefix.length, prefix.length + 16)),
                    "-in", in.toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            byte[] decrypted = openssl.getInputStream().readAllBytes();
            assertTrue(openssl.waitFor(30, TimeUnit.SECONDS));
            assertEquals(0, openssl.exitValue(), e.getKey());
            assertArrayEquals(e.getValue(), decrypted, e.getKey());
        }
    }

    @Test
    void aWriterUpdatingValuesWithItsOwnCasDuringThePassLosesNoWrite() throws Exception {
        Map<String, byte[]> latest = new ConcurrentHashMap<>(seedMixed(200, 0));
        List<String> hot = new ArrayList<>(new TreeMap<>(latest).keySet());
        AtomicBoolean passDone = new AtomicBoolean();
        AtomicInteger writes = new AtomicInteger();
        Thread writer = new Thread(() -> {
            Random random = new Random(3);
            int n = 0;
            int afterPass = 0;
            // Keeps going a little after the pass so its last writes land on re-encrypted values too.
            while (afterPass < 20) {
                n++;
                afterPass += passDone.get() ? 1 : 0;
                String key = hot.get(random.nextInt(hot.size()));
                try {
                    if (casUpdate(key, ("k8s\0written " + n).getBytes(UTF_8), random.nextBoolean(), latest)) {
                        writes.incrementAndGet();
                    }
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        }, "concurrent-apiserver");
        writer.start();
        PassSettings tiny = new PassSettings(10, 4, 1 << 20, Duration.ofSeconds(30), false);
        PassResult result;
        try {
            // the point of the sleep: the pass slowed, so the writer lands mid-pass
            result = new Pass(etcd.kv, targets, tiny).run(Checkpoint.start(), c -> Thread.sleep(2));
        } finally {
            passDone.set(true);
            writer.join(30_000);
        }

        assertTrue(writes.get() > 20, "the writer wrote only " + writes.get() + " times");
        for (Map.Entry<String, byte[]> e : latest.entrySet()) {
            KeyValue now = etcd.get(e.getKey());
            Opened opened = chain.open(now.getValue().getBytes(), e.getKey().getBytes(UTF_8));
            assertArrayEquals(e.getValue(), opened.plaintext(), "lost the last write to " + e.getKey());
        }
        assertEquals(0, result.checkpoint().failed());
        assertEquals(200, result.checkpoint().done());
    }

    /** What an apiserver does: read, write the new object with compare-and-swap, under the old or new key. */
    private boolean casUpdate(String key, byte[] plaintext, boolean oldKey, Map<String, byte[]> latest)
            throws Exception {
        KeyValue current = etcd.get(key);
        Envelope with = oldKey ? OLD_CBC_ENVELOPE : ACTIVE_CBC;
        ByteSequence k = SeededEtcd.bytes(key);
        boolean ok = etcd.kv.txn()
                .If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(current.getModRevision())))
                .Then(Op.put(k, ByteSequence.from(etcd.seal(with, key, plaintext)), PutOption.DEFAULT))
                .commit().get(10, TimeUnit.SECONDS).isSucceeded();
        if (ok) {
            latest.put(key, plaintext);
        }
        return ok;
    }

    @Test
    void resumeContinuesStrictlyAfterLastKeyDone() throws Exception {
        Map<String, byte[]> plaintexts = new TreeMap<>();
        Random random = new Random(5);
        for (int i = 0; i < 40; i++) {
            String key = String.format("%s/secrets/ns/s%02d", etcd.root, i);
            plaintexts.put(key, SeededEtcd.plaintext(random, 100));
            etcd.put(key, etcd.seal(OLD_CBC_ENVELOPE, key, plaintexts.get(key)));
        }
        List<String> keys = new ArrayList<>(plaintexts.keySet());
        Map<String, Long> before = revisions(keys);
        String secrets = etcd.root + "/secrets/";
        Checkpoint stored = new Checkpoint(Map.of(secrets, keys.get(19)), 40, 20, 20, 0, 0, List.of());

        PassResult result = new Pass(etcd.kv, targets, SMALL).run(stored, c -> { });

        for (int i = 0; i < keys.size(); i++) {
            KeyValue now = etcd.get(keys.get(i));
            if (i <= 19) {
                assertEquals(before.get(keys.get(i)), now.getModRevision(), "rewrote " + keys.get(i) + " again");
            } else {
                assertActive(chain.open(now.getValue().getBytes(), keys.get(i).getBytes(UTF_8)), keys.get(i));
            }
        }
        assertEquals(new Checkpoint(finished(), 40, 40, 40, 0, 0, List.of()), result.checkpoint());
    }

    @Test
    void aListenerThatThrowsStopsThePassAndItsCheckpointIsALowWaterMark() throws Exception {
        seedMixed(300, 0);
        IllegalStateException leaseLost = new IllegalStateException("lease lost");
        List<Checkpoint> seen = new ArrayList<>();

        IllegalStateException thrown = assertThrows(IllegalStateException.class,
                () -> new Pass(etcd.kv, targets, SMALL).run(Checkpoint.start(), c -> {
                    seen.add(c);
                    throw leaseLost;
                }));

        assertSame(leaseLost, thrown);
        assertEquals(1, seen.size());
        Checkpoint stop = seen.get(0);
        String done = stop.lastKeyDone().get(targets.get(0).etcdPrefix());
        int stillOld = 0;
        for (KeyValue kv : etcd.all(targets.get(0).etcdPrefix())) {
            String key = kv.getKey().toString(UTF_8);
            boolean active = !chain.open(kv.getValue().getBytes(), kv.getKey().getBytes()).stale();
            if (key.compareTo(done) <= 0) {
                assertTrue(active, key + " is claimed done but was not rewritten");
            }
            stillOld += active ? 0 : 1;
        }
        assertTrue(stillOld > 0, "the pass went on after its listener threw");

        PassResult resumed = new Pass(etcd.kv, targets, SMALL).run(stop, c -> { });
        assertTrue(resumed.checkpoint().finishedAll(targets));
        assertEquals(300, resumed.checkpoint().done());
        Map<String, Long> left = Scan.run(etcd.kv, targets, 100, Duration.ofSeconds(30), n -> { }).countsByEnvelope();
        assertEquals(Map.of("aescbc/" + RotationKeys.ACTIVE.name(), 300L), left);
    }

    @Test
    void unreadableValuesAreListedByKeyLeftByteIdenticalAndCountedFailed() throws Exception {
        seedMixed(20, 0);
        String gone = etcd.root + "/secrets/a/removed-key";
        String garbled = etcd.root + "/configmaps/b/garbled";
        byte[] goneValue = etcd.seal(RotationKeys.RETIRED_ENVELOPE, gone, "k8s\0x".getBytes(UTF_8));
        byte[] garbledValue = etcd.seal(OLD_CBC_ENVELOPE, garbled, "k8s\0y".getBytes(UTF_8));
        garbledValue[garbledValue.length - 1] ^= 0x55;
        etcd.put(gone, goneValue);
        etcd.put(garbled, garbledValue);
        long goneRevision = etcd.get(gone).getModRevision();

        PassResult result = new Pass(etcd.kv, targets, SMALL).run(Checkpoint.start(), c -> { });

        Checkpoint end = result.checkpoint();
        assertEquals(2, end.failed());
        assertEquals(20, end.rewritten());
        assertEquals(List.of(gone, garbled), end.unreadable(), "in target order: secrets, then configmaps");
        assertArrayEquals(goneValue, etcd.get(gone).getValue().getBytes());
        assertArrayEquals(garbledValue, etcd.get(garbled).getValue().getBytes());
        assertEquals(goneRevision, etcd.get(gone).getModRevision());
        assertEquals(Map.of(), result.remainingByEnvelope(), "unreadable values are not counted as remaining");
    }

    @Test
    void leasedKeysKeepTheirLeaseAfterARewrite() throws Exception {
        Lease leases = EtcdCluster.shared().client().getLeaseClient();
        long lease = leases.grant(600).get(10, TimeUnit.SECONDS).getID();
        String key = etcd.root + "/secrets/kube-system/leased";
        etcd.put(key, etcd.seal(OLD_GCM_ENVELOPE, key, "k8s\0leased".getBytes(UTF_8)), lease);
        try {
            new Pass(etcd.kv, targets, SMALL).run(Checkpoint.start(), c -> { });

            KeyValue now = etcd.get(key);
            assertActive(chain.open(now.getValue().getBytes(), key.getBytes(UTF_8)), key);
            assertEquals(lease, now.getLease(), "the rewrite detached the key from its lease");
        } finally {
            leases.revoke(lease).get(10, TimeUnit.SECONDS);
        }
    }

    @Test
    void valuesLargerThanHalfABatchOrTheWholeBatchStillGoThrough() throws Exception {
        Random random = new Random(9);
        Map<String, byte[]> plaintexts = new TreeMap<>();
        int[] sizes = {40_000, 40_000, 40_000, 100_000, 200, 300, 40_000, 700_000, 700_000, 700_000, 700_000,
            700_000, 700_000, 700_000, 10};
        for (int i = 0; i < sizes.length; i++) {
            String key = String.format("%s/secrets/big/v%02d", etcd.root, i);
            plaintexts.put(key, SeededEtcd.plaintext(random, sizes[i]));
            etcd.put(key, etcd.seal(OLD.get(i % OLD.size()), key, plaintexts.get(key)));
        }
        // 64 KiB transactions, so 40 kB values pair up at most; 7 x 700 kB (4.9 MB) exceed one 4 MiB gRPC answer.
        PassSettings small = new PassSettings(1000, 127, 64 << 10, Duration.ofSeconds(30), false);

        PassResult result = new Pass(etcd.kv, targets, small).run(Checkpoint.start(), c -> { });

        assertEquals(sizes.length, result.checkpoint().rewritten());
        for (Map.Entry<String, byte[]> e : plaintexts.entrySet()) {
            Opened opened = chain.open(etcd.get(e.getKey()).getValue().getBytes(), e.getKey().getBytes(UTF_8));
            assertActive(opened, e.getKey());
            assertArrayEquals(e.getValue(), opened.plaintext());
        }
    }

    @Test
    void rewriteAllRewritesValuesAlreadyUnderTheWriterAndTheCeilingWritesBytesBackUnchanged() throws Exception {
        Map<String, byte[]> plaintexts = seedMixed(30, 10);
        Map<String, Long> first = revisions(plaintexts.keySet());

        PassResult all = new Pass(etcd.kv, targets, SMALL.withRewriteAll(true)).run(Checkpoint.start(), c -> { });
        assertEquals(40, all.checkpoint().rewritten());
        Map<String, Long> second = revisions(plaintexts.keySet());
        Map<String, byte[]> bytes = new TreeMap<>();
        for (String key : plaintexts.keySet()) {
            assertNotEquals(first.get(key), second.get(key), key);
            bytes.put(key, etcd.get(key).getValue().getBytes());
        }

        PassResult ceiling = Pass.ceiling(etcd.kv, targets, SMALL).run(Checkpoint.start(), c -> { });
        assertEquals(40, ceiling.checkpoint().rewritten());
        for (String key : plaintexts.keySet()) {
            KeyValue now = etcd.get(key);
            assertNotEquals(second.get(key), now.getModRevision(), key);
            assertArrayEquals(bytes.get(key), now.getValue().getBytes(), key);
        }
    }

    @Test
    void aChainWhoseFirstProviderIsKmsIsRefusedBeforeAnythingIsRead() {
        KmsProvider kms = new KmsProvider("v2", "vault", "unix:///kms.sock", null, null);
        EncryptionConfig config = EncryptionConfig.of(List.of(new ResourceRule(List.of("secrets"), List.of(kms))));
        List<Target> kmsTargets = Targets.resolve(config, EtcdPrefix.of(etcd.root), List.of(), List.of());

        CommandRefused refused = assertThrows(CommandRefused.class, () -> new Pass(etcd.kv, kmsTargets, SMALL));
        assertTrue(refused.getMessage().contains("KMS provider vault"), refused.getMessage());
    }

    /** {@code total} values over the three resources, old envelopes in turn, plus {@code active} already new. */
    private Map<String, byte[]> seedMixed(int total, int active) throws Exception {
        Random random = new Random(total * 31L + active);
        Map<String, byte[]> plaintexts = new TreeMap<>();
        Map<String, byte[]> stored = new TreeMap<>();
        String[] paths = {"/secrets/", "/configmaps/", "/example.com/widgets/"};
        for (int i = 0; i < total + active; i++) {
            String key = String.format("%s%sns%d/v%04d", etcd.root, paths[i % 3], i % 7, i);
            byte[] plaintext = SeededEtcd.plaintext(random, 20 + random.nextInt(3000));
            Envelope envelope = i < total ? OLD.get(i % OLD.size()) : ACTIVE_CBC;
            plaintexts.put(key, plaintext);
            stored.put(key, etcd.seal(envelope, key, plaintext));
        }
        etcd.putAll(stored);
        return plaintexts;
    }

    private Map<String, Long> revisionsUnder(Envelope envelope, Iterable<String> keys) throws Exception {
        Map<String, Long> out = new TreeMap<>();
        for (String key : keys) {
            KeyValue kv = etcd.get(key);
            if (chain.open(kv.getValue().getBytes(), kv.getKey().getBytes()).by().description()
                    .equals(envelope.description())) {
                out.put(key, kv.getModRevision());
            }
        }
        return out;
    }

    private Map<String, Long> revisions(Iterable<String> keys) throws Exception {
        Map<String, Long> out = new TreeMap<>();
        for (String key : keys) {
            out.put(key, etcd.get(key).getModRevision());
        }
        return out;
    }

    private Map<String, String> finished() {
        Map<String, String> all = new TreeMap<>();
        targets.forEach(t -> all.put(t.etcdPrefix(), Checkpoint.FINISHED));
        return all;
    }

    private static void assertActive(Opened opened, String key) {
        assertEquals(ACTIVE_CBC.description(), opened.by().description(), key);
        assertFalse(opened.stale(), key);
    }

    private static void assertMonotonic(List<Checkpoint> seen) {
        for (int i = 1; i < seen.size(); i++) {
            Checkpoint a = seen.get(i - 1);
            Checkpoint b = seen.get(i);
            assertTrue(b.done() >= a.done(), "done went back");
            for (Map.Entry<String, String> e : a.lastKeyDone().entrySet()) {
                String later = b.lastKeyDone().get(e.getKey());
                assertTrue(later != null && (later.equals(Checkpoint.FINISHED) || later.compareTo(e.getValue()) >= 0),
                        "lastKeyDone of " + e.getKey() + " went back");
            }
        }
    }
}
