package dev.secretsencrypt.store;

import dev.secretsencrypt.rotation.RetiredKey;
import dev.secretsencrypt.failure.ChangedConcurrently;
import dev.secretsencrypt.failure.StateUnavailable;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.config.EncryptionConfig;
import dev.secretsencrypt.config.IdentityProvider;
import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.config.ProviderType;
import dev.secretsencrypt.config.ResourceRule;
import dev.secretsencrypt.rotation.RotationState;
import dev.secretsencrypt.rotation.Stage;
import dev.secretsencrypt.testing.EtcdCluster;
import dev.secretsencrypt.testing.TestDatastore;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The etcd store's guarantees, one by one, against a real etcd. */
@Tag("etcd")
@Tag("datastore")
class EtcdDatastoreTest {
    final TestDatastore etcd = TestDatastore.shared();
    final String prefix = "/test-" + UUID.randomUUID() + "/";

    EtcdDatastore store(String token) {
        return new EtcdDatastore(EtcdCluster.newClient(List.of(etcd.endpointsCsv().split(","))), StatePrefix.of(prefix), token.toCharArray(),
                etcd.endpointsCsv(), Duration.ofSeconds(5));
    }

    /** Every key under the test's prefix, as etcd holds it. */
    List<String> storedKeys() throws Exception {
        return etcd.client().getKVClient().get(io.etcd.jetcd.ByteSequence.from(prefix,
                java.nio.charset.StandardCharsets.UTF_8), io.etcd.jetcd.options.GetOption.builder().isPrefix(true).build())
                .get(10, java.util.concurrent.TimeUnit.SECONDS).getKvs().stream()
                .map(k -> k.getKey().toString(java.nio.charset.StandardCharsets.UTF_8)).toList();
    }

    static RotationState state(Stage stage) {
        return new RotationState(stage, EncryptionConfig.of(List.of(new ResourceRule(List.of("secrets"), List.of(
                new KeyedProvider(ProviderType.AESCBC, List.of(Key.generate("k", new byte[32]))),
                new IdentityProvider())))), Optional.empty());
    }

    @Test
    void twoWritersFromTheSameRevisionCannotBothWin() {
        try (EtcdDatastore one = store("t"); EtcdDatastore two = store("t")) {
            ClusterState a = one.state();
            ClusterState b = two.state();
            Snapshot created = a.replace(0, Snapshot.unsaved(state(Stage.START)));
            Snapshot seenByA = a.read().orElseThrow();
            Snapshot seenByB = b.read().orElseThrow();
            assertEquals(created.revision(), seenByB.revision());
            a.replace(seenByA.revision(), seenByA.with(state(Stage.PREPARE)));
            assertThrows(ChangedConcurrently.class, () -> b.replace(seenByB.revision(), seenByB.with(state(Stage.ROTATE))));
            assertEquals(Stage.PREPARE, b.read().orElseThrow().rotation().stage());
            assertThrows(ChangedConcurrently.class, () -> b.replace(0, Snapshot.unsaved(state(Stage.START))),
                    "creating over an existing state is a conflict too");
        }
    }

    @Test
    void retiredKeysTravelWrappedAndComeBackWhole() throws Exception {
        RetiredKey retired = new RetiredKey(ProviderType.AESGCM, Key.generate("old", new byte[16]),
                Instant.parse("2026-11-22T10:00:00Z"));
        try (EtcdDatastore s = store("t")) {
            s.state().replace(0, new Snapshot(0, state(Stage.REENCRYPT_FINISHED), List.of(retired)));
            assertEquals(List.of(retired), s.state().read().orElseThrow().retiredKeys());
            assertTrue(storedKeys().containsAll(List.of(prefix + "state", prefix + "kdf")));
        }
    }

    @Test
    void aWrongTokenNeverReadsTheState() {
        try (EtcdDatastore right = store("right"); EtcdDatastore wrong = store("wrong")) {
            right.state().replace(0, Snapshot.unsaved(state(Stage.START)));
            StateUnavailable e = assertThrows(StateUnavailable.class, wrong.state()::read);
            assertTrue(e.getMessage().startsWith("the cluster token does not open the stored state"), e.getMessage());
        }
    }
}
