package dev.secretsencrypt.reencrypt;

import dev.secretsencrypt.config.KeyRef;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * What a scan found: values per key ({@code valuesPerKey}, for retirement) and per envelope description ({@code aescbc/<key>}, {@code identity} for plaintext), the
 * number of values read ({@code total}, unreadable ones included), and the unreadable ones by etcd key (the
 * first {@value Checkpoint#MAX_UNREADABLE}; {@code unreadableCount} has them all), and likewise the values only a
 * retired (archived) key opens: kube-apiserver no longer has that key, so for it they are unreadable too.
 * {@code notUnderWriter} counts, per envelope description, the readable values not under their resource's active key
 * (the writer), and {@code writers} names those active keys (none for a resource whose first provider is KMS).
 */
public record ScanResult(Map<String, Long> countsByEnvelope, Map<KeyRef, Long> valuesPerKey, long total,
        List<String> unreadable, long unreadableCount, List<String> onlyArchived, long onlyArchivedCount,
        Map<String, Long> notUnderWriter, Set<String> writers) {
    public ScanResult {
        notUnderWriter = Collections.unmodifiableMap(new TreeMap<>(notUnderWriter));
        writers = Collections.unmodifiableSet(new TreeSet<>(writers));
        onlyArchived = List.copyOf(onlyArchived);
        countsByEnvelope = Collections.unmodifiableMap(new TreeMap<>(countsByEnvelope));
        valuesPerKey = Map.copyOf(valuesPerKey);
        unreadable = List.copyOf(unreadable);
    }

    /** Readable values that are not under their resource's active key (plaintext or an older key). */
    public long notUnderWriterCount() {
        return notUnderWriter.values().stream().mapToLong(Long::longValue).sum();
    }
}
