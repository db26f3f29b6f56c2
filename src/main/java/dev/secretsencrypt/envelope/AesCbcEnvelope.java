package dev.secretsencrypt.envelope;

import dev.secretsencrypt.config.ProviderType;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import javax.crypto.Cipher;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/** {@code k8s:enc:aescbc:v1:<name>:} + IV(16) + AES-CBC(plaintext + PKCS#7). Unauthenticated, as in Kubernetes. */
final class AesCbcEnvelope extends KeyedEnvelope {
    private static final int BLOCK = 16;
    private static final ThreadLocal<Cipher> ENCRYPTING = CipherPool.perThread("AES/CBC/PKCS5Padding");
    // Unpadded on purpose: the padding check is ours, so a wrong key is a reason, not a BadPaddingException.
    private static final ThreadLocal<Cipher> DECRYPTING = CipherPool.perThread("AES/CBC/NoPadding");

    private final SecretKeySpec key;

    AesCbcEnvelope(String keyName, byte[] secret) {
        super(ProviderType.AESCBC, keyName);
        this.key = new SecretKeySpec(secret, "AES");
    }

    @Override
    public boolean authenticated() {
        return false;
    }

    @Override
    public byte[] seal(byte[] plaintext, byte[] etcdKey) {
        int body = prefix.length + BLOCK;
        // PKCS#7 always adds 1 to 16 bytes, so a block-aligned plaintext gains a whole block.
        byte[] out = new byte[body + (plaintext.length / BLOCK + 1) * BLOCK];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        Nonces.fill(out, prefix.length, BLOCK);
        try {
            Cipher cipher = ENCRYPTING.get();
            cipher.init(Cipher.ENCRYPT_MODE, key, new IvParameterSpec(out, prefix.length, BLOCK));
            cipher.doFinal(plaintext, 0, plaintext.length, out, body);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(description + ": AES-CBC encryption failed", e);
        }
        return out;
    }

    @Override
    public byte[] open(byte[] stored, byte[] etcdKey) throws UnreadableValue {
        requireOwnPrefix(stored, etcdKey);
        int length = stored.length - prefix.length - BLOCK;
        if (length < BLOCK) {
            throw new UnreadableValue(etcdKey, description + ": too short to hold an IV and one block");
        }
        if (length % BLOCK != 0) {
            throw new UnreadableValue(etcdKey, description + ": ciphertext is not a multiple of the block size");
        }
        byte[] padded = new byte[length];
        try {
            Cipher cipher = DECRYPTING.get();
            cipher.init(Cipher.DECRYPT_MODE, key, new IvParameterSpec(stored, prefix.length, BLOCK));
            cipher.doFinal(stored, prefix.length + BLOCK, length, padded, 0);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(description + ": AES-CBC decryption failed", e);
        }
        int pad = validPadding(padded);
        if (pad == 0) {
            throw new UnreadableValue(etcdKey, description + ": invalid padding (wrong key or corrupted value)");
        }
        return Arrays.copyOf(padded, length - pad);
    }

    /** The PKCS#7 pad length, or 0 when invalid; only 1-16, all Kubernetes writes, so fewer wrong keys pass. */
    private static int validPadding(byte[] padded) {
        int pad = padded[padded.length - 1] & 0xff;
        if (pad < 1 || pad > BLOCK) {
            return 0;
        }
        int mismatch = 0;
        for (int i = padded.length - pad; i < padded.length; i++) {
            mismatch |= (padded[i] & 0xff) ^ pad;
        }
        return mismatch == 0 ? pad : 0;
    }
}
