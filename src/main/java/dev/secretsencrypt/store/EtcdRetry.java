package dev.secretsencrypt.store;

import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeoutException;

/**
 * The one retry policy for etcd requests that are safe to send again: reads, plain puts, compare-and-swap batches
 * (a lost attempt that was applied makes its compares fail, and that is settled). Its waits add up to about 10 s,
 * longer than an etcd leader election, so losing one member of three or the leader does not end a pass.
 */
public final class EtcdRetry {
    public static final int ATTEMPTS = 8;
    private static final long FIRST_DELAY_MILLIS = 100;
    private static final long MAX_DELAY_MILLIS = 2_000;

    private EtcdRetry() {
    }

    /** How long to wait before attempt {@code next} (2, 3, …). */
    public static Duration delayBefore(int next) {
        return Duration.ofMillis(Math.min(MAX_DELAY_MILLIS, FIRST_DELAY_MILLIS << Math.min(20, next - 2)));
    }

    /** A leader election, a restart, a lost member, a slow disk: the same request may well succeed a moment later. */
    public static boolean isTransient(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof TimeoutException) {
                return true;
            }
            if (t instanceof EtcdException e) {
                ErrorCode code = e.getErrorCode();
                if (code == ErrorCode.UNAVAILABLE || code == ErrorCode.DEADLINE_EXCEEDED
                        || code == ErrorCode.ABORTED) {
                    return true;
                }
            }
            String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
            if (m.contains("leader changed") || m.contains("no leader") || m.contains("timed out")
                    || m.contains("unavailable") || m.contains("connection refused")
                    || m.contains("too many requests") || m.contains("channel closed")
                    || m.contains("connection reset") || m.contains("io exception")) {
                return true;
            }
        }
        return false;
    }
}
