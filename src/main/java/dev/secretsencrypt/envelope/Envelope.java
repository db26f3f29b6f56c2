package dev.secretsencrypt.envelope;

import dev.secretsencrypt.config.KeyRef;
import java.util.Optional;

/**
 * One provider key, turning a plaintext into the exact bytes kube-apiserver stores in etcd and back.
 * The etcd key is passed as context because aesgcm authenticates it; the others ignore it.
 * Implementations are immutable and safe to share between threads.
 */
public interface Envelope {

    /** {@code k8s:enc:aescbc:v1:<name>:} and the like; empty for identity. Callers must not modify it. */
    byte[] prefix();

    /** The full stored value (prefix included), with a fresh random IV or nonce on every call. */
    byte[] seal(byte[] plaintext, byte[] etcdKey);

    /** The plaintext of a full stored value; the failure names the etcd key and never a byte of the value. */
    byte[] open(byte[] stored, byte[] etcdKey) throws UnreadableValue;

    /** For operator output: {@code aescbc/aescbckey}, {@code identity}. Never key material. */
    String description();

    /** The configured key this envelope is, for counting values per key; empty for identity and KMS. */
    default Optional<KeyRef> key() {
        return Optional.empty();
    }

    /**
     * False when a wrong key can still "open" a value (aescbc: about 1 in 256 wrong keys yields valid padding), so a
     * success proves nothing while another key's prefix also matches.
     */
    default boolean authenticated() {
        return true;
    }
}
