package dev.secretsencrypt.envelope;

import dev.secretsencrypt.config.ProviderType;
import java.security.GeneralSecurityException;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * {@code k8s:enc:aesgcm:v1:<name>:} + nonce(12) + ciphertext + tag(16), with the full etcd key as AAD,
 * so a value copied to another etcd key fails to open instead of impersonating that Secret.
 */
final class AesGcmEnvelope extends KeyedEnvelope {
    private static final int NONCE = 12;
    private static final int TAG = 16;
    private static final ThreadLocal<Cipher> CIPHERS = CipherPool.perThread("AES/GCM/NoPadding");

    private final SecretKeySpec key;

    AesGcmEnvelope(String keyName, byte[] secret) {
        super(ProviderType.AESGCM, keyName);
        this.key = new SecretKeySpec(secret, "AES");
    }

    @Override
    public byte[] seal(byte[] plaintext, byte[] etcdKey) {
        int body = prefix.length + NONCE;
        byte[] out = new byte[body + plaintext.length + TAG];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        Nonces.fill(out, prefix.length, NONCE);
        try {
            Cipher cipher = CIPHERS.get();
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG * 8, out, prefix.length, NONCE));
            cipher.updateAAD(etcdKey);
            cipher.doFinal(plaintext, 0, plaintext.length, out, body);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(description + ": AES-GCM encryption failed", e);
        }
        return out;
    }

    @Override
    public byte[] open(byte[] stored, byte[] etcdKey) throws UnreadableValue {
        requireOwnPrefix(stored, etcdKey);
        int body = prefix.length + NONCE;
        int length = stored.length - body;
        if (length < TAG) {
            throw new UnreadableValue(etcdKey, description + ": too short to hold a nonce and a tag");
        }
        byte[] plaintext = new byte[length - TAG];
        try {
            Cipher cipher = CIPHERS.get();
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG * 8, stored, prefix.length, NONCE));
            cipher.updateAAD(etcdKey);
            cipher.doFinal(stored, body, length, plaintext, 0);
        } catch (AEADBadTagException e) {
            throw new UnreadableValue(etcdKey, description
                    + ": authentication failed (wrong key, corrupted value, or value copied from another etcd key)");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(description + ": AES-GCM decryption failed", e);
        }
        return plaintext;
    }
}
