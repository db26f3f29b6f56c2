package dev.secretsencrypt.envelope;

/** {@code identity: {}}: values stored as plaintext. Returns its argument unchanged (no copy) both ways. */
final class IdentityEnvelope implements Envelope {
    static final IdentityEnvelope INSTANCE = new IdentityEnvelope();

    private static final byte[] NO_PREFIX = new byte[0];

    private IdentityEnvelope() {
    }

    @Override
    public byte[] prefix() {
        return NO_PREFIX;
    }

    @Override
    public byte[] seal(byte[] plaintext, byte[] etcdKey) {
        return plaintext;
    }

    @Override
    public byte[] open(byte[] stored, byte[] etcdKey) throws UnreadableValue {
        // Lets identity sit first (while disabling encryption) without handing ciphertext out as plaintext.
        if (Prefixes.isEncrypted(stored)) {
            throw new UnreadableValue(etcdKey, "identity: identity transformer tried to read encrypted data");
        }
        return stored;
    }

    @Override
    public String description() {
        return "identity";
    }

    @Override
    public String toString() {
        return "identity";
    }
}
