package dev.secretsencrypt.reencrypt;

import static dev.secretsencrypt.reencrypt.RotationKeys.ACTIVE_CBC;
import static dev.secretsencrypt.reencrypt.RotationKeys.OLD_BOX_ENVELOPE;
import static dev.secretsencrypt.reencrypt.RotationKeys.OLD_CBC_ENVELOPE;
import static dev.secretsencrypt.reencrypt.RotationKeys.OLD_GCM_ENVELOPE;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.envelope.Envelopes;
import dev.secretsencrypt.store.EtcdPrefix;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@Tag("etcd")
class ScanTest {
    private SeededEtcd etcd;

    @BeforeEach
    void start() {
        etcd = SeededEtcd.open();
    }

    @AfterEach
    void clean() throws Exception {
        etcd.close();
    }

    @Test
    void countsEveryValueByTheEnvelopeThatOpensItAndListsTheUnreadable() throws Exception {
        Random random = new Random(2);
        Map<String, byte[]> stored = new TreeMap<>();
        Envelope[] envelopes = {ACTIVE_CBC, OLD_CBC_ENVELOPE, OLD_GCM_ENVELOPE, OLD_BOX_ENVELOPE, Envelopes.identity()};
        int[] counts = {7, 11, 13, 17, 19};
        for (int e = 0; e < envelopes.length; e++) {
            for (int i = 0; i < counts[e]; i++) {
                String key = etcd.root + (i % 2 == 0 ? "/secrets/" : "/configmaps/") + "ns/" + e + "-" + i;
                stored.put(key, etcd.seal(envelopes[e], key, SeededEtcd.plaintext(random, 50 + random.nextInt(500))));
            }
        }
        String unreadable = etcd.root + "/secrets/ns/zz-retired";
        stored.put(unreadable, etcd.seal(RotationKeys.RETIRED_ENVELOPE, unreadable, "k8s\0old".getBytes(UTF_8)));
        etcd.putAll(stored);
        List<Target> targets = Targets.resolve(RotationKeys.config(List.of("secrets", "configmaps")), EtcdPrefix.of(etcd.root),
                List.of(), List.of());
        List<Long> progress = new ArrayList<>();

        ScanResult result = Scan.run(etcd.kv, targets, 10, Duration.ofSeconds(30), progress::add);

        assertEquals(Map.of(
                "aescbc/aescbckey-2026-11-22T10:54:38Z", 7L,
                "aescbc/aescbckey", 11L,
                "aesgcm/aesgcmkey", 13L,
                "secretbox/secretboxkey", 17L,
                "identity", 19L), result.countsByEnvelope());
        assertEquals(68, result.total());
        assertEquals(List.of(unreadable), result.unreadable());
        assertEquals(1, result.unreadableCount());
        assertEquals(68L, progress.get(progress.size() - 1));
    }

    @Test
    void aRetiredKeyPassedAsExtraReaderOpensWhatItWrote() throws Exception {
        String key = etcd.root + "/secrets/ns/restored-from-snapshot";
        etcd.put(key, etcd.seal(RotationKeys.RETIRED_ENVELOPE, key, "k8s\0old".getBytes(UTF_8)));
        List<Target> targets = Targets.resolve(RotationKeys.config(List.of("secrets")), EtcdPrefix.of(etcd.root), List.of(),
                List.of(new ReadOnlyKey(dev.secretsencrypt.config.ProviderType.AESCBC, RotationKeys.RETIRED)));

        ScanResult result = Scan.run(etcd.kv, targets, 10, Duration.ofSeconds(30), n -> { });

        assertEquals(Map.of("aescbc/aescbckey-2025-01-01T00:00:00Z", 1L), result.countsByEnvelope());
        assertEquals(0, result.unreadableCount());
    }
}
