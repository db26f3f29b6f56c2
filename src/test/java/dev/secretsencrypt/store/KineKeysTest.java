package dev.secretsencrypt.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.testing.Kine;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.options.GetOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * kine over MySQL/MariaDB keeps keys as case-insensitive ASCII: there {@code nodes/Node-1} and {@code nodes/node-1}
 * are one key, so two servers named so would overwrite each other's reports unseen. The tool asks kine how it compares
 * keys and refuses such a node name there, before anything is written; on SQLite and PostgreSQL it is taken.
 */
@Tag("kine")
class KineKeysTest {
    static Kine kine;
    final String prefix = "/kk-" + UUID.randomUUID() + "/";

    @BeforeAll
    static void startKine() {
        kine = Kine.start();
        System.out.println("kine over " + kine.backend() + " at " + kine.endpoint());
    }

    @AfterAll
    static void stopKine() {
        kine.close();
    }

    EtcdDatastore open(String node) {
        return EtcdConnection.open(new EtcdSettings(List.of(kine.endpoint()), Optional.empty(), Optional.empty(),
                Optional.empty(), new EtcdSettings.TokenSource(Optional.of("token"), true, Optional.empty(),
                Path.of("/nonexistent/token")), StatePrefix.of(prefix), Duration.ofSeconds(5)), node, warning -> { });
    }

    static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    KV kv() {
        return kine.client().getKVClient();
    }

    /** What this kine does with a key written in one case and read in another, seen directly. */
    boolean kineFoldsCase() throws Exception {
        kv().put(bytes(prefix + "seen/Case"), bytes("x")).get(10, TimeUnit.SECONDS);
        return !kv().get(bytes(prefix + "seen/CASE")).get(10, TimeUnit.SECONDS).getKvs().isEmpty();
    }

    List<String> storedUnderPrefix() throws Exception {
        return kv().get(bytes(prefix), GetOption.builder().isPrefix(true).build()).get(10, TimeUnit.SECONDS).getKvs()
                .stream().map(k -> k.getKey().toString(StandardCharsets.UTF_8)).toList();
    }

    @Test
    void aNodeNameWithCapitalsIsRefusedWhereKineComparesKeysWithoutCaseAndTakenElsewhere() throws Exception {
        boolean folds = kineFoldsCase();
        assertEquals(kine.backend() == Kine.Backend.MARIADB, folds, "kine over " + kine.backend() + " folds case");
        List<String> before = storedUnderPrefix();
        if (folds) {
            CommandRefused refused = assertThrows(CommandRefused.class, () -> open("Node-1"));
            System.out.println("on kine over " + kine.backend() + ": " + refused.getMessage());
            assertEquals("kine at " + kine.endpoint() + " keeps its keys in MySQL/MariaDB, which compares them without "
                    + "case and takes ASCII only (it answered a read of COMPACT_REV_KEY with compact_rev_key): the node "
                    + "name \"Node-1\" has capitals, and there it is one name with \"node-1\" and every other case of it, "
                    + "so two such servers would overwrite each other's reports unseen; give this server --node-name "
                    + "node-1 (lowercase, as Kubernetes names nodes); nothing was changed", refused.getMessage());
            CommandRefused nonAscii = assertThrows(CommandRefused.class, () -> open("nöde-1"));
            assertTrue(nonAscii.getMessage().endsWith(": the node name \"nöde-1\" is not ASCII; give this server an "
                    + "ASCII --node-name (lowercase letters, digits, '-' and '.', as Kubernetes names nodes); nothing "
                    + "was changed"), nonAscii.getMessage());
            assertEquals(before, storedUnderPrefix(), "nothing written");
        } else {
            open("Node-1").close();
            open("nöde-1").close();
        }
        open("node-1").close();
    }

    @Test
    void reportsOfNodesNamedInOtherCaseStayApartOnlyWhereKineKeepsCase() throws Exception {
        // what the refusal prevents, seen on the tool's own report keys
        try (EtcdDatastore store = open("node-1")) {
            StateKeys keys = new StateKeys(prefix);
            kv().put(bytes(keys.reports() + "Node-1"), bytes("prepare-" + "a".repeat(64))).get(10, TimeUnit.SECONDS);
            kv().put(bytes(keys.reports() + "node-1"), bytes("start-" + "b".repeat(64))).get(10, TimeUnit.SECONDS);
            int reports = store.reports().reports().size();
            assertEquals(kine.backend() == Kine.Backend.MARIADB ? 1 : 2, reports, "reports on " + kine.backend());
        }
    }

    @Test
    void keysOver630BytesAreDroppedWithoutAnErrorOnlyOnMariadbSoTheToolNeverWritesOne() throws Exception {
        String at630 = prefix + "a".repeat(630 - prefix.length());
        String at631 = at630 + "a";
        kv().put(bytes(at630), bytes("kept")).get(10, TimeUnit.SECONDS);
        kv().put(bytes(at631), bytes("dropped on mariadb")).get(10, TimeUnit.SECONDS); // answers OK everywhere
        assertEquals(1, kv().get(bytes(at630)).get(10, TimeUnit.SECONDS).getKvs().size());
        assertEquals(kine.backend() == Kine.Backend.MARIADB ? 0 : 1,
                kv().get(bytes(at631)).get(10, TimeUnit.SECONDS).getKvs().size(), "631-byte key on " + kine.backend());
        assertEquals(StateKeys.LONGEST_KEY_BYTES, at630.length());
    }
}
