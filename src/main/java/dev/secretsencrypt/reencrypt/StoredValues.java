package dev.secretsencrypt.reencrypt;

import dev.secretsencrypt.failure.StateUnavailable;
import dev.secretsencrypt.store.ValueWrites;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * The values kube-apiserver stored in etcd, as re-encryption sees them: a pass that rewrites them and a scan that
 * counts them. The use cases hold this, never a jetcd type.
 */
public final class StoredValues {
    private final KV kv;
    private final Supplier<ValueWrites> writes;

    /** {@code writes} is asked when a pass is made (it may ask the datastore what it is). */
    public StoredValues(KV kv, Supplier<ValueWrites> writes) {
        this.kv = kv;
        this.writes = writes;
    }

    /**
     * A pass over {@code targets}, its writes within what the datastore takes; refused before anything is read when
     * a target's chain cannot write.
     */
    public Pass pass(List<Target> targets, PassSettings settings) {
        return new Pass(kv, targets, settings.within(writes.get()));
    }

    /** One stored value as etcd holds it, with the revision it was last written at. */
    public record StoredValue(byte[] etcdKey, byte[] value, long modRevision) {
    }

    /**
     * Hands every value under {@code prefix} (which ends in {@code /}) to {@code each}, a page at a time in key order,
     * with the pass's page budget and retry policy; returns how many there were.
     */
    public long each(String prefix, PassSettings settings, Consumer<StoredValue> each) {
        PageReader reader = new PageReader(kv, prefix, ByteSequence.from(prefix, StandardCharsets.UTF_8),
                settings.within(writes.get()));
        long count = 0;
        try {
            for (boolean last = false; !last; ) {
                PageReader.Page page = reader.next();
                last = page.last();
                for (KeyValue v : page.values()) {
                    each.accept(new StoredValue(v.getKey().getBytes(), v.getValue().getBytes(), v.getModRevision()));
                }
                count += page.values().size();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StateUnavailable("interrupted while reading " + prefix + " from " + writes.get().datastore());
        }
        return count;
    }

    /** Reads every value of {@code targets}; {@code valuesRead} hears the count after every page. */
    public ScanResult scan(List<Target> targets, PassSettings settings, LongConsumer valuesRead) {
        return Scan.run(kv, targets, settings.within(writes.get()), valuesRead::accept);
    }
}
