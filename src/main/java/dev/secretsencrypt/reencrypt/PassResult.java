package dev.secretsencrypt.reencrypt;

import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * The final checkpoint, and how many readable values this run left under each envelope other than the writer
 * (values that kept changing, or grew too large for etcd): empty after a clean pass. Unreadable values are in
 * the checkpoint, not here. A ceiling run never opens values, so its map is always empty.
 */
public record PassResult(Checkpoint checkpoint, Map<String, Long> remainingByEnvelope, Duration elapsed) {
    public PassResult {
        remainingByEnvelope = Collections.unmodifiableMap(new TreeMap<>(remainingByEnvelope));
    }
}
