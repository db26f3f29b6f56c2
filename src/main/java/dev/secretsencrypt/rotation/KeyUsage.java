package dev.secretsencrypt.rotation;

import dev.secretsencrypt.config.KeyRef;
import java.util.Map;

/**
 * What a confirming scan over every resource a key protects found: stored values per key, and how many values
 * no key could read. {@code complete} is false when no scan can cover the keys' resources (a wildcard rule).
 */
public record KeyUsage(Map<KeyRef, Long> valuesPerKey, long unreadable, boolean complete) {
    public KeyUsage {
        valuesPerKey = Map.copyOf(valuesPerKey);
    }

    public long of(KeyRef key) {
        return valuesPerKey.getOrDefault(key, 0L);
    }

    public static KeyUsage incomplete() {
        return new KeyUsage(Map.of(), 0, false);
    }
}
