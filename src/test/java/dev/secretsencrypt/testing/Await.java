package dev.secretsencrypt.testing;

import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waiting for what a test observes, instead of a fixed sleep: polls a condition until it holds, and fails naming what
 * did not happen and the last thing seen.
 */
public final class Await {
    private static final Duration POLL = Duration.ofMillis(100);

    private Await() {
    }

    /** Until {@code done} holds, at most {@code within}. */
    public static void until(Duration within, String what, BooleanSupplier done) {
        until(within, what, () -> done.getAsBoolean() ? Optional.of(Boolean.TRUE) : Optional.empty(), () -> "");
    }

    /** Until {@code probe} gives a value, at most {@code within}; returns it. */
    public static <T> T until(Duration within, String what, Supplier<Optional<T>> probe) {
        return until(within, what, probe, () -> "");
    }

    /** As above; {@code lastSeen} says what was there instead when it fails. */
    public static <T> T until(Duration within, String what, Supplier<Optional<T>> probe, Supplier<String> lastSeen) {
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            Optional<T> got = probe.get();
            if (got.isPresent()) {
                return got.get();
            }
            if (System.nanoTime() > deadline) {
                String seen = lastSeen.get();
                throw new AssertionError("not within " + within.toSeconds() + " s: " + what
                        + (seen.isEmpty() ? "" : "\nlast seen:\n" + seen));
            }
            try {
                Thread.sleep(POLL.toMillis()); // the poll of Await itself: the one wait that is not a test's point
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting until " + what, e);
            }
        }
    }

    /** A check that may throw, for {@link #until}: a failure counts as "not yet". */
    public interface Check {
        boolean holds() throws Exception;
    }

    /** {@code check} as a condition: an exception (a command that failed, a refused read) is "not yet". */
    public static BooleanSupplier quietly(Check check) {
        return () -> {
            try {
                return check.holds();
            } catch (Exception notYet) {
                return false;
            }
        };
    }
}
