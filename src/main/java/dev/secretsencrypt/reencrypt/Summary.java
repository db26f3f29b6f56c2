package dev.secretsencrypt.reencrypt;

import java.time.Duration;
import java.util.Locale;

/** The line a pass ends with. */
public final class Summary {
    private Summary() {
    }

    /**
     * {@code reencrypted N values (U unchanged, F failed) in T s (R/s)}: N is the values rewritten; T has one
     * decimal; R is every value handled (rewritten + unchanged + failed) per second of the exact elapsed time,
     * rounded to an integer, since reading and checking an unchanged value is work the pass did too.
     */
    public static String of(long rewritten, long unchanged, long failed, Duration elapsed) {
        double seconds = elapsed.toNanos() / 1e9;
        long rate = seconds > 0 ? Math.round((rewritten + unchanged + failed) / seconds) : 0;
        return String.format(Locale.ROOT, "reencrypted %d values (%d unchanged, %d failed) in %.1f s (%d/s)",
                rewritten, unchanged, failed, seconds, rate);
    }
}
