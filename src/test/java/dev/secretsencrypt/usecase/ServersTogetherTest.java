package dev.secretsencrypt.usecase;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.config.ConfigHash;
import dev.secretsencrypt.config.ProviderType;
import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.rotation.Stage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Optional;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;

/**
 * The use cases of two servers against the real store, in one JVM: the every-server gate refusing rotate by itself,
 * -f or not; the key-loss guard refusing sync; and sync's result as a record of what it did.
 */
@Tag("etcd")
class ServersTogetherTest {
    @TempDir
    Path tmp;
    SharedEtcdNodes nodes;

    @BeforeEach
    void twoServersEnabledAndSynced() throws Exception {
        nodes = new SharedEtcdNodes(tmp);
        try (Session a = nodes.open("server-a")) {
            a.steps().enable(ProviderType.AESCBC);
        }
        nodes.sync("server-a");
        nodes.sync("server-b");
    }

    @Test
    void rotateIsRefusedWhileAServerHasNotLoadedThePreparedConfigForcedOrNotAndTheRefusalChangesNothing() {
        try (Session a = nodes.open("server-a")) {
            a.steps().prepare(Optional.empty(), false);
        }
        nodes.sync("server-a");
        for (boolean force : new boolean[] {false, true}) {
            try (Session a = nodes.open("server-a")) {
                CommandRefused refused = assertThrows(CommandRefused.class, () -> a.steps().rotate(force));
                assertTrue(refused.getMessage().startsWith("rotate is refused: not every server loaded the current "
                        + "config"), refused.getMessage());
                assertTrue(refused.getMessage().contains("server-b"), refused.getMessage());
                assertTrue(refused.getMessage().endsWith("then run rotate again (-f does not skip this check: a server "
                        + "that has not loaded the config would lose data)"), refused.getMessage());
                assertEquals(Stage.PREPARE, a.current().rotation().stage(), "a refused rotate changes nothing");
            }
        }
        nodes.sync("server-b");
        try (Session a = nodes.open("server-a")) {
            a.steps().rotate(false);
            assertEquals(Stage.ROTATE, a.current().rotation().stage());
        }
    }

    @Test
    void syncReportsWhatTheFileHoldsAsARecord() throws Exception {
        Reporting.SyncResult again = nodes.sync("server-b");
        assertEquals("server-b", again.node());
        assertEquals(false, again.written(), "the file already matched the state");
        Reporting.Reported.Stored stored = assertInstanceOf(Reporting.Reported.Stored.class, again.reported());
        assertEquals(Optional.of(Stage.START), stored.report().stage());
        assertEquals(Optional.of(ConfigHash.ofFile(Files.readAllBytes(nodes.configFile("server-b")))),
                stored.report().hash());
    }

    @Test
    void syncRefusesToReplaceAFileThatHoldsAKeyTheClusterLacksAndLeavesItAsItWas() throws Exception {
        Path file = nodes.configFile("server-b");
        String secret = Base64.getEncoder().encodeToString(new byte[32]);
        String byHand = Files.readString(file).replaceFirst("\"keys\":\\s*\\[",
                "\"keys\":[{\"name\":\"set-up-apart\",\"secret\":\"" + secret + "\"},");
        Files.writeString(file, byHand);
        byte[] before = Files.readAllBytes(file);
        CommandRefused refused = assertThrows(CommandRefused.class, () -> nodes.sync("server-b"));
        assertTrue(refused.getMessage().contains("holds key(s) or provider(s) the cluster state does not: "),
                refused.getMessage());
        assertTrue(refused.getMessage().contains("set-up-apart"), refused.getMessage());
        assertTrue(refused.getMessage().endsWith("nothing was changed"), refused.getMessage());
        assertTrue(!refused.getMessage().contains(secret), "no key material in the refusal");
        assertArrayEquals(before, Files.readAllBytes(file));
        assertTrue(new String(before, StandardCharsets.UTF_8).contains("set-up-apart"));
    }
}
