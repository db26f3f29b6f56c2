package dev.secretsencrypt.envelope;

import java.security.GeneralSecurityException;
import javax.crypto.Cipher;

/** JDK ciphers (AES-NI) kept per thread: getInstance is slow, and a Cipher is not thread-safe. */
final class CipherPool {
    private CipherPool() {
    }

    static ThreadLocal<Cipher> perThread(String transformation) {
        return ThreadLocal.withInitial(() -> {
            try {
                return Cipher.getInstance(transformation);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("this JDK has no " + transformation + " cipher", e);
            }
        });
    }
}
