package dev.secretsencrypt.reencrypt;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a scan found: values per envelope description ({@code aescbc/<key>}, {@code identity} for plaintext), the
 * number of values read ({@code total}, unreadable ones included), and the unreadable ones by etcd key (the
 * first {@value Checkpoint#MAX_UNREADABLE}; {@code unreadableCount} has them all).
 */
public record ScanResult(Map<String, Long> countsByEnvelope, long total, List<String> unreadable,
        long unreadableCount) {
    public ScanResult {
        countsByEnvelope = Collections.unmodifiableMap(new TreeMap<>(countsByEnvelope));
        unreadable = List.copyOf(unreadable);
    }
}
