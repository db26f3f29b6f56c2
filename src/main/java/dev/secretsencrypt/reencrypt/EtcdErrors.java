package dev.secretsencrypt.reencrypt;

import io.etcd.jetcd.common.exception.ErrorCode;
import io.etcd.jetcd.common.exception.EtcdException;
import java.util.Locale;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/** Sorts etcd failures into those worth retrying, those that need a smaller request, and the rest. */
final class EtcdErrors {
    private EtcdErrors() {
    }

    static Throwable unwrap(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** etcd refused the transaction for its size or op count (--max-request-bytes, --max-txn-ops). */
    static boolean isRequestTooLarge(Throwable failure) {
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
    static boolean isResponseTooLarge(Throwable failure) {
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
