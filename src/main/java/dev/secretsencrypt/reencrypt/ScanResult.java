package dev.secretsencrypt.reencrypt;

import dev.secretsencrypt.config.KeyRef;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a scan found: values per key ({@code valuesPerKey}, for retirement) and per envelope description ({@code aescbc/<key>}, {@code identity} for plaintext), the
 * number of values read ({@code total}, unreadable ones included), and the unreadable ones by etcd key (the
 * first {@value Checkpoint#MAX_UNREADABLE}; {@code unreadableCount} has them all), and likewise the values only a
 * retired (archived) key opens: kube-apiserver no longer has that key, so for it they are unreadable too.
 */
public record ScanResult(Map<String, Long> countsByEnvelope, Map<KeyRef, Long> valuesPerKey, long total,
        List<String> unreadable, long unreadableCount, List<String> onlyArchived, long onlyArchivedCount) {
    public ScanResult {
        onlyArchived = List.copyOf(onlyArchived);
        countsByEnvelope = Collections.unmodifiableMap(new TreeMap<>(countsByEnvelope));
        valuesPerKey = Map.copyOf(valuesPerKey);
        unreadable = List.copyOf(unreadable);
    }
}
