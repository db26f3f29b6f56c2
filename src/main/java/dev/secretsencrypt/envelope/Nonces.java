package dev.secretsencrypt.envelope;

import java.security.SecureRandom;

/** Random IVs and nonces, written straight into the output buffer. */
final class Nonces {
    // One shared generator: seeding is the expensive part, and SecureRandom is thread-safe.
    private static final SecureRandom RANDOM = new SecureRandom();

    private Nonces() {
    }

    static void fill(byte[] out, int offset, int length) {
        byte[] nonce = new byte[length];
        RANDOM.nextBytes(nonce);
        System.arraycopy(nonce, 0, out, offset, length);
    }
}
