package dev.secretsencrypt.envelope;

import dev.secretsencrypt.config.KeyRef;
import dev.secretsencrypt.config.ProviderType;
import java.util.Optional;

/** What every keyed envelope shares: its {@code k8s:enc:<provider>:v1:<key>:} prefix and its printable name. */
abstract class KeyedEnvelope implements Envelope {
    protected final byte[] prefix;
    protected final String description;
    private final KeyRef key;

    KeyedEnvelope(ProviderType type, String keyName) {
        this.prefix = Prefixes.of(type.field(), "v1", keyName);
        this.description = type.field() + "/" + keyName;
        this.key = new KeyRef(type, keyName);
    }

    @Override
    public final Optional<KeyRef> key() {
        return Optional.of(key);
    }

    @Override
    public final byte[] prefix() {
        return prefix;
    }

    @Override
    public final String description() {
        return description;
    }

    /** A value another key wrote is not ours to try: the chain moves on to the next candidate. */
    protected final void requireOwnPrefix(byte[] stored, byte[] etcdKey) throws UnreadableValue {
        if (!Prefixes.startsWith(stored, prefix)) {
            throw new UnreadableValue(etcdKey, description + ": the value was not written by this key");
        }
    }

    @Override
    public final String toString() {
        return description;
    }
}
