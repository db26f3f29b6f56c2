package dev.secretsencrypt.envelope;

import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.config.KmsProvider;
import dev.secretsencrypt.config.Provider;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

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

    /** Why this chain cannot write (its first provider is KMS), for the operator; empty when it can. */
    public Optional<String> whyNoWriter() {
        return Optional.ofNullable(noWriter);
    }

    public List<Envelope> readOrder() {
        return readOrder;
    }

    /** Opens a full stored value; stale when it was not written by {@link #writer()}. */
    public Opened open(byte[] stored, byte[] etcdKey) throws UnreadableValue {
        Objects.requireNonNull(stored, "stored");
        Objects.requireNonNull(etcdKey, "etcdKey");
        UnreadableValue last = null;
        for (int i = 0; i < readOrder.size(); i++) {
            Envelope envelope = readOrder.get(i);
            if (!matches(envelope, stored)) {
                continue;
            }
            byte[] plaintext;
            try {
                plaintext = envelope.open(stored, etcdKey);
            } catch (UnreadableValue failed) {
                // Never short-circuit on a prefix match: aescbc keys "A" and "A:B" both match a value written
                // by "A:B", and only the later candidate can read it.
                last = failed;
                continue;
            }
            if (!envelope.authenticated()) {
                if (!StorageForm.isStoredObject(plaintext)) {
                    // another secret under this key's name: kube-apiserver cannot decode it, and it is never rewritten
                    last = new UnreadableValue(etcdKey, envelope.description() + " opens it to bytes that are not a "
                            + "stored Kubernetes object (a value sealed with another secret under the same key name, "
                            + "from an old snapshot or another cluster?); it is left as it is");
                    continue;
                }
                requireNoOtherOpener(stored, etcdKey, envelope, i + 1);
            }
            return new Opened(plaintext, envelope, envelope != writer);
        }
        throw last != null ? last : new UnreadableValue(etcdKey, Prefixes.unmatched(stored));
    }

    /**
     * An unauthenticated success is trusted only when no later candidate also opens the value: with aescbc keys "A"
     * and "A:B", key "A" yields garbage with valid padding for about 1 value in 256 written by "A:B". Rewriting that
     * garbage would destroy the Secret, so an ambiguous value is unreadable and left as it is.
     */
    private void requireNoOtherOpener(byte[] stored, byte[] etcdKey, Envelope first, int from) throws UnreadableValue {
        for (Envelope other : readOrder.subList(from, readOrder.size())) {
            if (matches(other, stored)) {
                try {
                    if (!other.authenticated() && !StorageForm.isStoredObject(other.open(stored, etcdKey))) {
                        continue;
                    }
                } catch (UnreadableValue expected) {
                    continue;
                }
                throw new UnreadableValue(etcdKey, first.description().equals(other.description())
                        ? "ambiguous: two keys named " + first.description() + " (one name given twice in the config) "
                        + "both open it, so neither can be trusted; it is left as it is: give each key its own name"
                        : "ambiguous: both " + first.description() + " and " + other.description()
                        + " open it (their key names overlap), so neither can be trusted; it is left as it is");
            }
        }
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
