package dev.secretsencrypt.rotation;

import dev.secretsencrypt.config.KeyRef;
import dev.secretsencrypt.config.IdentityProvider;
import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.config.KmsProvider;
import dev.secretsencrypt.config.Provider;
import dev.secretsencrypt.config.ProviderType;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;

/**
 * The providers of the rule that covers Secrets, with the named steps rotation takes on them. Every step keeps
 * every provider and every key: dropping one would make the values it wrote unreadable.
 */
public record KeyList(List<Provider> providers) {
    public KeyList {
        providers = List.copyOf(providers);
    }

    /** Enabled = the first provider writes ciphertext (identity first means new writes are plaintext). */
    public boolean isEnabled() {
        return !providers.isEmpty() && !(providers.get(0) instanceof IdentityProvider);
    }

    /** The key new writes use: the first key of the first provider, when that provider is keyed. */
    public Optional<KeyRef> activeKey() {
        if (!providers.isEmpty() && providers.get(0) instanceof KeyedProvider k && !k.keys().isEmpty()) {
            return Optional.of(new KeyRef(k.type(), k.keys().get(0).name()));
        }
        return Optional.empty();
    }

    /** How many keys the keyed providers hold together (KMS and identity have none here). */
    public int keyCount() {
        return providers.stream().mapToInt(p -> p instanceof KeyedProvider k ? k.keys().size() : 0).sum();
    }

    public boolean hasIdentity() {
        return providers.stream().anyMatch(p -> p instanceof IdentityProvider);
    }

    /** The first provider that is not identity, when it is KMS: its keys are the plugin's, not ours. */
    public Optional<KmsProvider> kmsInCharge() {
        return providers.stream().filter(p -> !(p instanceof IdentityProvider)).findFirst()
                .filter(p -> p instanceof KmsProvider).map(p -> (KmsProvider) p);
    }

    public Optional<KeyedProvider> firstKeyed() {
        return providers.stream().filter(p -> p instanceof KeyedProvider).map(p -> (KeyedProvider) p).findFirst();
    }

    public boolean containsKeyNamed(String name) {
        return providers.stream().filter(p -> p instanceof KeyedProvider)
                .flatMap(p -> ((KeyedProvider) p).keys().stream()).anyMatch(k -> k.name().equals(name));
    }

    public boolean contains(KeyRef ref) {
        return indexOfType(ref) >= 0;
    }

    /** identity moved to the end, everything else in its order: {@code [aescbc{keys}, …, identity]}. */
    public KeyList withIdentityLast() {
        List<Provider> next = new ArrayList<>(providers.stream().filter(p -> !(p instanceof IdentityProvider)).toList());
        if (hasIdentity()) {
            next.add(new IdentityProvider());
        }
        return new KeyList(next);
    }

    /** identity moved (or added) to the front, every keyed provider kept after it so old data stays readable. */
    public KeyList withIdentityFirst() {
        List<Provider> next = new ArrayList<>();
        next.add(new IdentityProvider());
        providers.stream().filter(p -> !(p instanceof IdentityProvider)).forEach(next::add);
        return new KeyList(next);
    }

    /** A new provider holding {@code key}, placed first: used when enabling with no key at all. */
    public KeyList withNewProviderFirst(ProviderType type, Key key) {
        List<Provider> next = new ArrayList<>();
        next.add(new KeyedProvider(type, List.of(key)));
        next.addAll(providers);
        return new KeyList(next);
    }

    /**
     * {@code key} appended as the LAST key of the first provider of {@code type} (every server can read with it,
     * none writes with it); with no provider of that type, a new one right after the first keyed provider.
     */
    public KeyList withKeyAdded(ProviderType type, Key key) {
        List<Provider> next = new ArrayList<>(providers);
        for (int i = 0; i < next.size(); i++) {
            if (next.get(i) instanceof KeyedProvider k && k.type() == type) {
                List<Key> keys = new ArrayList<>(k.keys());
                keys.add(key);
                next.set(i, k.withKeys(keys));
                return new KeyList(next);
            }
        }
        int firstKeyed = IntStream.range(0, next.size()).filter(i -> next.get(i) instanceof KeyedProvider)
                .findFirst().orElse(next.size() - 1);
        next.add(firstKeyed + 1, new KeyedProvider(type, List.of(key)));
        return new KeyList(next);
    }

    /**
     * {@code ref} made the key that writes: first in its provider, and its provider moved to where the first
     * keyed provider stood (so identity stays first when encryption is disabled).
     */
    public KeyList withKeyActive(KeyRef ref) {
        int at = indexOfType(ref);
        if (at < 0) {
            throw new IllegalArgumentException("no key " + ref);
        }
        KeyedProvider holder = (KeyedProvider) providers.get(at);
        List<Key> keys = new ArrayList<>(holder.keys());
        Key key = keys.stream().filter(k -> k.name().equals(ref.name())).findFirst().orElseThrow();
        keys.remove(key);
        keys.add(0, key);
        // the holder stands at or after the first non-identity slot, so removing it shifts nothing before that slot
        int target = IntStream.range(0, providers.size())
                .filter(i -> !(providers.get(i) instanceof IdentityProvider)).findFirst().orElseThrow();
        List<Provider> next = new ArrayList<>(providers);
        next.remove(at);
        next.add(target, holder.withKeys(keys));
        return new KeyList(next);
    }

    private int indexOfType(KeyRef ref) {
        for (int i = 0; i < providers.size(); i++) {
            if (providers.get(i) instanceof KeyedProvider k && k.type() == ref.type()
                    && k.keys().stream().anyMatch(key -> key.name().equals(ref.name()))) {
                return i;
            }
        }
        return -1;
    }
}
