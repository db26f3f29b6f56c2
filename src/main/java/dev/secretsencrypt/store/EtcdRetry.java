package dev.secretsencrypt.store;

import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * The one retry policy for etcd requests that are safe to send again: reads, plain puts, compare-and-swap batches
 * (a lost attempt that was applied makes its compares fail, and that is settled). Its waits add up to about 10 s,
 * longer than an etcd leader election, so losing one member of three or the leader does not end a pass.
 *
 * <p>And the one place etcd failures are sorted: worth retrying, a request too large (send less), an answer too large
 * (ask for less), or the rest. By gRPC status code first; etcd's own error descriptions (as its Go client's
 * {@code rpctypes} maps them) where one code covers several, and the transport's words where no code arrives.
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
            String m = message(t);
            if (m.contains("leader changed") || m.contains("no leader") || m.contains("timed out")
                    || m.contains("unavailable") || m.contains("connection refused")
                    || m.contains("too many requests") || m.contains("channel closed")
                    || m.contains("connection reset") || m.contains("io exception")) {
                return true;
            }
        }
        return false;
    }

    /** kine refusing a transaction that is not one of its four single-key shapes (etcd takes them all). */
    public static boolean isUnsupportedTransaction(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            boolean invalid = !(t instanceof EtcdException e) || e.getErrorCode() == ErrorCode.INVALID_ARGUMENT;
            if (invalid && message(t).contains("unsupported operations in txn request")) {
                return true;
            }
        }
        return false;
    }

    /** The failure itself, out of the future's wrappers. */
    public static Throwable unwrap(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** etcd refused the transaction for its size or op count (--max-request-bytes, --max-txn-ops). */
    public static boolean isRequestTooLarge(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            String m = message(t);
            // The last one is etcd's gRPC server refusing more than --max-request-bytes + 512 KiB outright.
            if (m.contains("request is too large") || m.contains("too many operations in txn request")
                    || m.contains("received message larger than max")) {
                return true;
            }
        }
        return false;
    }

    /** The answer was larger than the client accepts (gRPC's 4 MiB by default): ask for fewer keys. */
    public static boolean isResponseTooLarge(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof EtcdException e && e.getErrorCode() == ErrorCode.RESOURCE_EXHAUSTED) {
                return true;
            }
            String m = message(t);
            if (m.contains("resource_exhausted") || m.contains("larger than max") || m.contains("exceeds maximum")
                    || m.contains("message size") || m.contains("too large")) {
                return true;
            }
        }
        return false;
    }

    private static String message(Throwable t) {
        return t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
    }
}
