package dev.secretsencrypt.config;

import java.util.List;

/** An aescbc, aesgcm or secretbox provider with its keys; the first key encrypts, all keys decrypt. */
public record KeyedProvider(ProviderType type, List<Key> keys) implements Provider {
    public KeyedProvider {
        keys = List.copyOf(keys);
    }

    public KeyedProvider withKeys(List<Key> next) {
        return new KeyedProvider(type, next);
    }
}
