package dev.secretsencrypt.reencrypt;

import static dev.secretsencrypt.reencrypt.RotationKeys.ACTIVE_CBC;
import static dev.secretsencrypt.reencrypt.RotationKeys.OLD_CBC_ENVELOPE;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.secretsencrypt.envelope.Opened;
import dev.secretsencrypt.envelope.ProviderChain;
import dev.secretsencrypt.store.EtcdPrefix;
import io.etcd.jetcd.KeyValue;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The compare-and-swap writes, driven directly so each kind of concurrent change happens for certain. */
@Tag("etcd")
class CasWriterTest {
    private static final PassSettings SETTINGS = PassSettings.defaults();

    private SeededEtcd etcd;
    private ProviderChain chain;
    private ValuePolicy policy;
    private ExecutorService pool;

    @BeforeEach
    void start() {
        etcd = SeededEtcd.open();
        chain = Targets.resolve(RotationKeys.config(List.of("secrets")), EtcdPrefix.of(etcd.root), List.of(), List.of()).get(0)
                .chain();
        policy = ValuePolicy.reencrypt(chain, false);
        pool = Workers.start("test");
    }

    @AfterEach
    void clean() throws Exception {
        pool.shutdownNow();
        etcd.close();
    }

    @Test
    void onlyKeysThatChangedAreJudgedAgainFromTheirNewValueAndTheConcurrentWriteWins() throws Exception {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String key = etcd.root + "/secrets/ns/k" + i;
            keys.add(key);
            etcd.put(key, etcd.seal(OLD_CBC_ENVELOPE, key, ("k8s\0first " + i).getBytes(UTF_8)));
        }
        List<Rewrite> pending = judged(keys);
        etcd.put(keys.get(0), etcd.seal(OLD_CBC_ENVELOPE, keys.get(0), "k8s\0newer".getBytes(UTF_8)));
        etcd.kv.delete(SeededEtcd.bytes(keys.get(1))).get(10, TimeUnit.SECONDS);
        etcd.put(keys.get(2), etcd.seal(ACTIVE_CBC, keys.get(2), "k8s\0by the apiserver".getBytes(UTF_8)));
        byte[] garbage = "k8s:enc:aescbc:v1:nobody:0123456789abcdef0123456789abcdef".getBytes(UTF_8);
        etcd.put(keys.get(3), garbage);
        long apiserverRevision = etcd.get(keys.get(2)).getModRevision();
        Tally tally = new Tally();

        writer().write(pending, policy, tally).get(30, TimeUnit.SECONDS);

        assertEquals("k8s\0newer", activePlaintext(keys.get(0)));
        assertNull(etcd.get(keys.get(1)), "a key deleted meanwhile must not come back");
        assertEquals(apiserverRevision, etcd.get(keys.get(2)).getModRevision());
        assertArrayEquals(garbage, etcd.get(keys.get(3)).getValue().getBytes());
        assertEquals("k8s\0first 4", activePlaintext(keys.get(4)));
        assertEquals(List.of(2L, 1L, 1L, 1L),
                List.of(tally.rewritten(), tally.unchanged(), tally.deleted(), tally.failed()));
        assertEquals(List.of(keys.get(3)), tally.unreadable());
    }

    @Test
    void aKeyThatKeepsChangingIsLeftToItsWriterAndCountedFailedUnderItsEnvelope() throws Exception {
        String key = etcd.root + "/secrets/ns/hot";
        etcd.put(key, etcd.seal(OLD_CBC_ENVELOPE, key, "k8s\0v0".getBytes(UTF_8)));
        List<Rewrite> pending = judged(List.of(key));
        int[] version = {0};
        // Every time the writer looks at the key again, an "apiserver" has just written it once more.
        ValuePolicy hot = stored -> {
            Verdict verdict = policy.judge(stored);
            try {
                etcd.put(key, etcd.seal(OLD_CBC_ENVELOPE, key, ("k8s\0v" + ++version[0]).getBytes(UTF_8)));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            return verdict;
        };
        etcd.put(key, etcd.seal(OLD_CBC_ENVELOPE, key, "k8s\0v-first".getBytes(UTF_8)));
        Tally tally = new Tally();

        writer().write(pending, hot, tally).get(60, TimeUnit.SECONDS);

        assertEquals(1, tally.failed());
        assertEquals(Map.of("aescbc/aescbckey", 1L), tally.remaining());
        assertEquals(CasWriter.MAX_CHANGES + 1, version[0], "given up on the first change beyond the limit");
        Opened last = chain.open(etcd.get(key).getValue().getBytes(), key.getBytes(UTF_8));
        assertEquals("k8s\0v" + version[0], new String(last.plaintext(), UTF_8), "the last writer's value stays");
    }

    @Test
    void aTransactionEtcdFindsTooLargeIsSplitUntilItFits() throws Exception {
        Random random = new Random(1);
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String key = etcd.root + "/secrets/big/k" + i;
            keys.add(key);
            etcd.put(key, etcd.seal(OLD_CBC_ENVELOPE, key, SeededEtcd.plaintext(random, 600_000)));
        }
        // Allowed 16 MiB a transaction, far above etcd's 1.5 MiB --max-request-bytes: etcd refuses, we split.
        PassSettings huge = new PassSettings(1000, 127, 16 << 20, Duration.ofSeconds(30), false);
        Tally tally = new Tally();

        new CasWriter(etcd.kv, huge, pool, new AtomicBoolean()).write(judged(keys), policy, tally)
                .get(60, TimeUnit.SECONDS);

        assertEquals(4, tally.rewritten());
        for (String key : keys) {
            assertEquals(ACTIVE_CBC.description(), chain.open(etcd.get(key).getValue().getBytes(),
                    key.getBytes(UTF_8)).by().description());
        }
    }

    private CasWriter writer() {
        return new CasWriter(etcd.kv, SETTINGS, pool, new AtomicBoolean());
    }

    private List<Rewrite> judged(List<String> keys) throws Exception {
        List<Rewrite> pending = new ArrayList<>();
        for (String key : keys) {
            KeyValue stored = etcd.get(key);
            pending.add(Rewrite.of(stored, (Verdict.Put) policy.judge(stored), 0));
        }
        return pending;
    }

    private String activePlaintext(String key) throws Exception {
        Opened opened = chain.open(etcd.get(key).getValue().getBytes(), key.getBytes(UTF_8));
        assertEquals(ACTIVE_CBC.description(), opened.by().description(), key);
        return new String(opened.plaintext(), UTF_8);
    }
}
