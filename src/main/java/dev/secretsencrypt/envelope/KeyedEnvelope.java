package dev.secretsencrypt.envelope;

/** What every keyed envelope shares: its {@code k8s:enc:<provider>:v1:<key>:} prefix and its printable name. */
abstract class KeyedEnvelope implements Envelope {
    protected final byte[] prefix;
    protected final String description;

    KeyedEnvelope(String provider, String keyName) {
        this.prefix = Prefixes.of(provider, "v1", keyName);
        this.description = provider + "/" + keyName;
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
