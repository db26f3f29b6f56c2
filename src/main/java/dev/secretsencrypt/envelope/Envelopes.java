package dev.secretsencrypt.envelope;

import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.ProviderType;
import java.util.Arrays;

/** Builds the envelope for one configured key. */
public final class Envelopes {
    private Envelopes() {
    }

    /** Refuses a key of the wrong length, naming the key but never its bytes. */
    public static Envelope of(ProviderType type, Key key) {
        byte[] secret = key.secretBytes();
        try {
            if (!type.keyLengths().contains(secret.length)) {
                throw new IllegalArgumentException(type.field() + " key " + key.name() + " is " + secret.length
                        + " bytes long, expected one of " + type.keyLengths());
            }
            return switch (type) {
                case AESCBC -> new AesCbcEnvelope(key.name(), secret);
                case AESGCM -> new AesGcmEnvelope(key.name(), secret);
                case SECRETBOX -> new SecretboxEnvelope(key.name(), secret);
            };
        } finally {
            // The envelopes keep their own copies; this one should not linger on the heap.
            Arrays.fill(secret, (byte) 0);
        }
    }

    public static Envelope identity() {
        return IdentityEnvelope.INSTANCE;
    }
}
