package dev.secretsencrypt.reencrypt;

import io.etcd.jetcd.KV;
import java.util.List;
import java.util.function.LongConsumer;

/**
 * The values kube-apiserver stored in etcd, as re-encryption sees them: a pass that rewrites them and a scan that
 * counts them. The use cases hold this, never a jetcd type.
 */
public final class StoredValues {
    private final KV kv;

    public StoredValues(KV kv) {
        this.kv = kv;
    }

    /** A pass over {@code targets}; refused before anything is read when a target's chain cannot write. */
    public Pass pass(List<Target> targets, PassSettings settings) {
        return new Pass(kv, targets, settings);
    }

    /** Reads every value of {@code targets}; {@code valuesRead} hears the count after every page. */
    public ScanResult scan(List<Target> targets, PassSettings settings, LongConsumer valuesRead) {
        return Scan.run(kv, targets, settings.pageSize(), settings.timeout(), valuesRead::accept);
    }
}
