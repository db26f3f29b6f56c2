package dev.secretsencrypt.store;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.failure.CommandRefused;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The keys of the tool's state stay within what every datastore keeps: kine over MySQL/MariaDB stores at most 630
 * bytes of a key and drops a longer one while answering OK, so a longer node name or state prefix is refused on every
 * datastore before anything is read or written.
 */
@Tag("unit")
class StateKeysTest {
    static final String DEFAULT = "/secrets-encrypt/";

    /** Settings for an endpoint nothing listens on: a refusal here never reached a datastore. */
    static EtcdSettings settings(String statePrefix) {
        return new EtcdSettings(List.of("http://127.0.0.1:1"), Optional.empty(), Optional.empty(), Optional.empty(),
                new EtcdSettings.TokenSource(Optional.of("token"), true, Optional.empty(), Path.of("/nonexistent/token")),
                StatePrefix.of(statePrefix), Duration.ofSeconds(1));
    }

    @Test
    void theLongestKeyOfANodeIsItsRetiredKeyFindingAndIsKeptUpTo630Bytes() {
        StateKeys keys = new StateKeys(DEFAULT);
        String longest = keys.findings() + "n".repeat(594);
        assertEquals(630, longest.length());
        assertTrue(keys.writtenBy("n".repeat(594)).contains(longest));
        assertDoesNotThrow(() -> keys.requireShort(Optional.of("n".repeat(594))));
        assertThrows(CommandRefused.class, () -> keys.requireShort(Optional.of("n".repeat(595))));
        // bytes, not characters: kine's column counts bytes
        assertThrows(CommandRefused.class, () -> keys.requireShort(Optional.of("ä".repeat(298))));
        // the longest DNS name is far inside
        assertDoesNotThrow(() -> keys.requireShort(Optional.of("h".repeat(253))));
    }

    @Test
    void aNodeNameWhoseKeysWouldBeLongerThanKineOverMysqlKeepsIsRefusedBeforeConnecting() {
        CommandRefused refused = assertThrows(CommandRefused.class,
                () -> EtcdConnection.open(settings(DEFAULT), "n".repeat(600), warning -> { }));
        assertTrue(refused.getMessage().startsWith("the node name \"" + "n".repeat(40) + "…\" makes "
                + "keys of 636 bytes under --state-prefix \"/secrets-encrypt/\", longer than the 630 that kine over "
                + "MySQL/MariaDB keeps"), refused.getMessage());
        assertTrue(refused.getMessage().endsWith("give this server a shorter --node-name; nothing was changed"),
                refused.getMessage());
    }

    @Test
    void aStatePrefixWhoseKeysWouldBeLongerThanKineOverMysqlKeepsIsRefusedWhateverTheNodeName() {
        String prefix = "/" + "p".repeat(610) + "/";
        for (CommandRefused refused : List.of(
                assertThrows(CommandRefused.class, () -> EtcdConnection.open(settings(prefix), "n", warning -> { })),
                assertThrows(CommandRefused.class, () -> EtcdConnection.open(settings(prefix), warning -> { })))) {
            assertTrue(refused.getMessage().startsWith("--state-prefix \"/" + "p".repeat(39) + "…\" makes keys of 641 "
                    + "bytes, longer than the 630"), refused.getMessage());
            assertTrue(refused.getMessage().contains("give a shorter --state-prefix, the same on every server"),
                    refused.getMessage());
        }
    }
}
