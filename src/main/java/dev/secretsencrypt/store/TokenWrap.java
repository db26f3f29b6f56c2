package dev.secretsencrypt.store;

import dev.secretsencrypt.failure.StateUnavailable;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.bouncycastle.crypto.digests.SHA256Digest;
import org.bouncycastle.crypto.generators.PKCS5S2ParametersGenerator;
import org.bouncycastle.crypto.params.KeyParameter;

/**
 * Seals what this tool stores in etcd with AES-256-GCM under a key derived from the cluster token
 * (PBKDF2-HMAC-SHA256 with a stored random salt), so no key byte ever sits next to the Secrets it protects.
 * The etcd key name is the AAD: a wrapped value moved to another key does not open.
 */
public final class TokenWrap {
    public static final String KDF = "PBKDF2WithHmacSHA256";
    public static final int ITERATIONS = 210_000;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final int REMEMBERED = 16;
    /** Derived keys of this process, by a digest of (salt, token) and the iterations: a second session pays nothing. */
    private static final Map<Derivation, SecretKeySpec> DERIVED = new ConcurrentHashMap<>();

    private final SecretKeySpec key;

    private TokenWrap(SecretKeySpec key) {
        this.key = key;
    }

    public static byte[] newSalt() {
        byte[] salt = new byte[16];
        RANDOM.nextBytes(salt);
        return salt;
    }

    /**
     * {@link #KDF} with the stored salt and iterations, computed by BouncyCastle: the same bytes as the JDK's
     * SecretKeyFactory (TokenWrapTest checks it), in about half the time, as its HMAC keeps the padded-key digest
     * states instead of hashing both pads again on every iteration; this is most of a cluster-mode command's start-up.
     */
    public static TokenWrap derive(char[] token, byte[] salt, int iterations) {
        byte[] password = utf8(token);
        try {
            Derivation which = Derivation.of(password, salt, iterations);
            SecretKeySpec known = DERIVED.get(which);
            if (known != null) {
                return new TokenWrap(known);
            }
            PKCS5S2ParametersGenerator pbkdf2 = new PKCS5S2ParametersGenerator(new SHA256Digest());
            pbkdf2.init(password, salt, iterations);
            byte[] raw = ((KeyParameter) pbkdf2.generateDerivedMacParameters(256)).getKey();
            SecretKeySpec key = new SecretKeySpec(raw, "AES");
            Arrays.fill(raw, (byte) 0);
            if (DERIVED.size() >= REMEMBERED) {
                DERIVED.clear(); // an agent or a test run meets a handful of clusters, never this many
            }
            DERIVED.put(which, key);
            return new TokenWrap(key);
        } finally {
            Arrays.fill(password, (byte) 0);
        }
    }

    /** Which derivation: sha256 over the salt's length, the salt and the token bytes, never the token itself. */
    private record Derivation(String digest, int iterations) {
        static Derivation of(byte[] password, byte[] salt, int iterations) {
            SHA256Digest sha = new SHA256Digest();
            sha.update(ByteBuffer.allocate(4).putInt(salt.length).array(), 0, 4);
            sha.update(salt, 0, salt.length);
            sha.update(password, 0, password.length);
            byte[] out = new byte[32];
            sha.doFinal(out, 0);
            return new Derivation(HexFormat.of().formatHex(out), iterations);
        }
    }

    /** The JDK's PBKDF2 turns the password chars into bytes this way (UTF-8); the derived key must not change. */
    private static byte[] utf8(char[] token) {
        ByteBuffer encoded = StandardCharsets.UTF_8.encode(CharBuffer.wrap(token));
        byte[] bytes = new byte[encoded.remaining()];
        encoded.get(bytes);
        if (encoded.hasArray()) {
            Arrays.fill(encoded.array(), (byte) 0);
        }
        return bytes;
    }

    /** nonce(12) || AES-256-GCM(plaintext) || tag(16). */
    public byte[] wrap(byte[] plaintext, String etcdKey) {
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        try {
            Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
            gcm.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            gcm.updateAAD(etcdKey.getBytes(StandardCharsets.UTF_8));
            byte[] sealed = gcm.doFinal(plaintext);
            byte[] out = new byte[NONCE_BYTES + sealed.length];
            System.arraycopy(nonce, 0, out, 0, NONCE_BYTES);
            System.arraycopy(sealed, 0, out, NONCE_BYTES, sealed.length);
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed", e);
        }
    }

    /** @throws NotOpened when the token is not the one the value was wrapped with, or the value was damaged */
    public byte[] unwrap(byte[] wrapped, String etcdKey) throws NotOpened {
        if (wrapped.length < NONCE_BYTES + TAG_BITS / 8) {
            throw new StateUnavailable(etcdKey + " in etcd is damaged (too short): restore it from an etcd backup");
        }
        try {
            Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
            gcm.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, wrapped, 0, NONCE_BYTES));
            gcm.updateAAD(etcdKey.getBytes(StandardCharsets.UTF_8));
            return gcm.doFinal(wrapped, NONCE_BYTES, wrapped.length - NONCE_BYTES);
        } catch (AEADBadTagException e) {
            throw new NotOpened();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM failed", e);
        }
    }

    /**
     * A value stored beside the salt that tells a wrong token from a damaged state: HMAC-SHA256 of a fixed label under
     * the derived key. It proves the token without revealing it (as long as the token itself is not guessable).
     */
    public byte[] tokenCheck() {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(key.getEncoded(), "HmacSHA256"));
            return mac.doFinal("secrets-encrypt token check v1".getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this Java runtime lacks HmacSHA256", e);
        }
    }

    /** AES-GCM refused the value: the token is wrong, or the value was changed since it was wrapped. */
    public static final class NotOpened extends Exception {
        private static final long serialVersionUID = 1L;

        NotOpened() {
            super("the wrapped value does not open", null, false, false);
        }
    }
}
