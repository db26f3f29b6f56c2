package dev.secretsencrypt.envelope;

import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.config.KmsProvider;
import dev.secretsencrypt.config.Provider;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The providers of one resource rule, as kube-apiserver uses them: writes with the first key of the first
 * provider, reads with whichever configured key's prefix matches, trying them in config order.
 */
public final class ProviderChain {
    private final List<Envelope> readOrder;
    private final Envelope writer; // null when a KMS provider comes first
    private final String noWriter;

    private ProviderChain(List<Envelope> readOrder, Envelope writer, String noWriter) {
        this.readOrder = List.copyOf(readOrder);
        this.writer = writer;
        this.noWriter = noWriter;
    }

    /** One envelope per key, in config order: each keyed provider's keys in order, identity once, KMS once. */
    public static ProviderChain of(List<Provider> providers) {
        if (providers.isEmpty()) {
            throw new IllegalArgumentException("at least one provider is required");
        }
        List<Envelope> envelopes = new ArrayList<>();
        for (Provider provider : providers) {
            envelopes.addAll(envelopesOf(provider));
        }
        if (providers.get(0) instanceof KmsProvider kms) {
            return new ProviderChain(envelopes, null, "the first provider is KMS provider " + kms.name()
                    + ", whose keys live in its plugin, which secrets-encrypt cannot use;"
                    + " put an aescbc, aesgcm or secretbox provider first to re-encrypt with this tool");
        }
        return new ProviderChain(envelopes, envelopes.get(0), null);
    }

    private static List<Envelope> envelopesOf(Provider provider) {
        if (provider instanceof KeyedProvider keyed) {
            if (keyed.keys().isEmpty()) {
                throw new IllegalArgumentException(keyed.type().field() + " provider has no keys");
            }
            return keyed.keys().stream().map(key -> Envelopes.of(keyed.type(), key)).toList();
        }
        if (provider instanceof KmsProvider kms) {
            return List.of(new KmsEnvelope(kms));
        }
        return List.of(Envelopes.identity());
    }

    /** The envelope new values are written with: the first key of the first provider. */
    public Envelope writer() {
        if (writer == null) {
            throw new IllegalStateException(noWriter);
        }
        return writer;
    }

    public List<Envelope> readOrder() {
        return readOrder;
    }

    /** Opens a full stored value; stale when it was not written by {@link #writer()}. */
    public Opened open(byte[] stored, byte[] etcdKey) throws UnreadableValue {
        Objects.requireNonNull(stored, "stored");
        Objects.requireNonNull(etcdKey, "etcdKey");
        UnreadableValue last = null;
        for (Envelope envelope : readOrder) {
            if (!matches(envelope, stored)) {
                continue;
            }
            try {
                byte[] plaintext = envelope.open(stored, etcdKey);
                return new Opened(plaintext, envelope, envelope != writer);
            } catch (UnreadableValue failed) {
                // Never short-circuit on a prefix match: aescbc keys "A" and "A:B" both match a value written
                // by "A:B", and only the later candidate can read it.
                last = failed;
            }
        }
        throw last != null ? last : new UnreadableValue(etcdKey, Prefixes.unmatched(stored));
    }

    /** Identity takes anything not marked {@code k8s:enc:}, so it is never even tried on ciphertext. */
    private static boolean matches(Envelope envelope, byte[] stored) {
        byte[] prefix = envelope.prefix();
        return prefix.length == 0 ? !Prefixes.isEncrypted(stored) : Prefixes.startsWith(stored, prefix);
    }

    @Override
    public String toString() {
        return "ProviderChain" + readOrder;
    }
}
