package dev.secretsencrypt.rotation;

import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.ProviderType;
import java.time.Instant;

/** A key removed from the config after no stored value referenced it; kept to read restored snapshots. */
public record RetiredKey(ProviderType type, Key key, Instant retiredAt) {
}
