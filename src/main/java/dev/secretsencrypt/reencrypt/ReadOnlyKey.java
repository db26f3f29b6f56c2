package dev.secretsencrypt.reencrypt;

import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.ProviderType;
import java.util.Objects;

/** A retired key kept only to read values restored from an old etcd snapshot; nothing is ever written with it. */
public record ReadOnlyKey(ProviderType type, Key key) {
    public ReadOnlyKey {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(key, "key");
    }
}
