package dev.secretsencrypt.reencrypt;

import java.time.Duration;
import java.util.Objects;

/**
 * How a pass talks to etcd. {@code pageSize} caps the keys per range read (pages also shrink to stay near
 * {@value #PAGE_BYTES} bytes, so memory is flat however large the values); a transaction carries at most
 * {@code maxBatchValues} puts (etcd's default --max-txn-ops is 128) and about {@code maxBatchBytes} bytes
 * (etcd's default --max-request-bytes is 1.5 MiB), except that a single larger value still goes alone.
 * {@code rewriteAll} rewrites values already under the writer too (a fresh IV, same plaintext); {@code maxInFlight}
 * bounds the transactions in flight (kine); {@code datastore} names the datastore in messages (etcd or kine).
 */
public record PassSettings(int pageSize, int maxBatchValues, int maxBatchBytes, Duration timeout, boolean rewriteAll,
                           int maxInFlight, String datastore) {
    /** Range reads aim below this size: gRPC clients refuse messages over 4 MiB by default. */
    public static final int PAGE_BYTES = 3 << 20;
    private static final int ETCD_MAX_TXN_OPS = 128;

    public PassSettings {
        Objects.requireNonNull(timeout, "timeout");
        if (pageSize < 1) {
            throw new IllegalArgumentException("pageSize must be at least 1, got " + pageSize);
        }
        if (maxBatchValues < 1 || maxBatchValues > ETCD_MAX_TXN_OPS) {
            throw new IllegalArgumentException("maxBatchValues must be 1 to " + ETCD_MAX_TXN_OPS
                    + " (etcd's default --max-txn-ops), got " + maxBatchValues);
        }
        if (maxBatchBytes < 1) {
            throw new IllegalArgumentException("maxBatchBytes must be positive, got " + maxBatchBytes);
        }
        if (timeout.isZero() || timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must be positive, got " + timeout);
        }
        if (maxInFlight < 1) {
            throw new IllegalArgumentException("maxInFlight must be at least 1, got " + maxInFlight);
        }
    }

    /** With no bound on the transactions in flight beyond the pages the pass keeps open (etcd's case). */
    public PassSettings(int pageSize, int maxBatchValues, int maxBatchBytes, Duration timeout, boolean rewriteAll) {
        this(pageSize, maxBatchValues, maxBatchBytes, timeout, rewriteAll, Integer.MAX_VALUE, "etcd");
    }

    /** 1000 keys a page, 127 values and 1 MiB a transaction (headroom under etcd's 128 ops, 1.5 MiB), 30 s. */
    public static PassSettings defaults() {
        return new PassSettings(1000, 127, 1 << 20, Duration.ofSeconds(30), false);
    }

    public PassSettings withRewriteAll(boolean all) {
        return new PassSettings(pageSize, maxBatchValues, maxBatchBytes, timeout, all, maxInFlight, datastore);
    }

    /** Within what {@code store} takes (keys a transaction, transactions at a time), named as it is in messages. */
    public PassSettings within(dev.secretsencrypt.store.ValueWrites store) {
        return new PassSettings(pageSize, Math.min(maxBatchValues, store.valuesPerTransaction()), maxBatchBytes,
                timeout, rewriteAll, Math.min(maxInFlight, store.transactionsInFlight()), store.datastore());
    }
}
