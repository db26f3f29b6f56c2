package dev.secretsencrypt.usecase;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.config.ProviderType;
import dev.secretsencrypt.failure.CommandRefused;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * rotate-keys' waits are measured on the clock it is given and pause through its sleeper: a test's sleeper moves the
 * clock, so the default five-minute bound is exercised in full without five minutes passing.
 */
@Tag("etcd")
class RotateKeysWaitTest {
    @TempDir
    Path tmp;

    /** A clock that moves only when the test moves it. */
    static final class TestClock extends Clock {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    @Test
    void theDefaultFiveMinuteWaitEndsOnTheGivenClockAndNamesTheServersThatNeverLoaded() throws Exception {
        SharedEtcdNodes nodes = new SharedEtcdNodes(tmp);
        try (Session a = nodes.open("server-a")) {
            a.steps().enable(ProviderType.AESCBC);
        }
        nodes.sync("server-a");
        nodes.sync("server-b");
        TestClock clock = new TestClock();
        List<Duration> pauses = new ArrayList<>();
        List<String> said = new ArrayList<>();
        RotateKeys.Settings settings = new RotateKeys.Settings(RotateKeys.DEFAULT_TIMEOUT, RotateKeys.DEFAULT_POLL,
                Optional.empty());
        long started = System.nanoTime();
        try (Session a = nodes.open("server-a", clock)) {
            RotateKeys rotateKeys = a.rotateKeys(settings, c -> { }, said::add, d -> {
                pauses.add(d);
                clock.now = clock.now.plus(d);
                if (pauses.size() == 3) {
                    nodes.sync("server-a"); // server-a restarts during the wait; server-b never does
                }
            });
            CommandRefused stopped = assertThrows(CommandRefused.class, rotateKeys::run);
            assertTrue(stopped.getMessage().startsWith("rotate-keys stopped after step 1 (prepare): in 5m not every "
                    + "server loaded the prepared config (stage prepare): server-b did not load it"), stopped.getMessage());
        }
        assertTrue(TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started) < 60, "the five minutes passed on the "
                + "test's clock, not the wall's");
        assertEquals(150, pauses.size(), "one read every 2 s for 5 min: " + pauses.size());
        assertTrue(pauses.stream().allMatch(RotateKeys.DEFAULT_POLL::equals), pauses.toString());
        assertTrue(said.contains("  server-a loaded the prepared config (stage prepare) (1/2); still waiting for "
                + "server-b"), said.toString());
        try (Session b = nodes.open("server-b")) {
            assertEquals("prepare", ((StatusView.Configured) b.status()).stage().text());
        }
    }
}
