package dev.secretsencrypt.envelope;

import dev.secretsencrypt.config.ProviderType;
import java.security.MessageDigest;
import java.util.Arrays;
import org.bouncycastle.crypto.engines.XSalsa20Engine;
import org.bouncycastle.crypto.macs.Poly1305;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.ParametersWithIV;

/**
 * {@code k8s:enc:secretbox:v1:<name>:} + nonce(24) + NaCl secretbox (tag(16) then ciphertext), as Go's
 * {@code nacl/secretbox.Seal} writes it. Built from BouncyCastle's lightweight primitives, not its JCE provider,
 * because the shaded jar would break the provider's signature check.
 */
final class SecretboxEnvelope extends KeyedEnvelope {
    private static final int NONCE = 24;
    private static final int TAG = 16;
    private static final int POLY_KEY = 32;

    private final KeyParameter key;

    SecretboxEnvelope(String keyName, byte[] secret) {
        super(ProviderType.SECRETBOX, keyName);
        this.key = new KeyParameter(secret);
    }

    @Override
    public byte[] seal(byte[] plaintext, byte[] etcdKey) {
        int nonceAt = prefix.length;
        int tagAt = nonceAt + NONCE;
        int body = tagAt + TAG;
        byte[] out = new byte[body + plaintext.length];
        System.arraycopy(prefix, 0, out, 0, prefix.length);
        Nonces.fill(out, nonceAt, NONCE);
        XSalsa20Engine stream = keyStream(out, nonceAt);
        Poly1305 mac = oneTimeMac(stream);
        stream.processBytes(plaintext, 0, plaintext.length, out, body);
        mac.update(out, body, plaintext.length);
        mac.doFinal(out, tagAt);
        return out;
    }

    @Override
    public byte[] open(byte[] stored, byte[] etcdKey) throws UnreadableValue {
        requireOwnPrefix(stored, etcdKey);
        int nonceAt = prefix.length;
        int tagAt = nonceAt + NONCE;
        int body = tagAt + TAG;
        if (stored.length < body) {
            throw new UnreadableValue(etcdKey, description + ": too short to hold a nonce and a tag");
        }
        XSalsa20Engine stream = keyStream(stored, nonceAt);
        Poly1305 mac = oneTimeMac(stream);
        mac.update(stored, body, stored.length - body);
        byte[] expected = new byte[TAG];
        mac.doFinal(expected, 0);
        // Constant-time, and checked before decrypting: a forged value never reaches the caller.
        if (!MessageDigest.isEqual(expected, Arrays.copyOfRange(stored, tagAt, body))) {
            throw new UnreadableValue(etcdKey, description + ": authentication failed (wrong key or corrupted value)");
        }
        byte[] plaintext = new byte[stored.length - body];
        stream.processBytes(stored, body, plaintext.length, plaintext, 0);
        return plaintext;
    }

    private XSalsa20Engine keyStream(byte[] buffer, int nonceAt) {
        XSalsa20Engine stream = new XSalsa20Engine();
        stream.init(true, new ParametersWithIV(key, buffer, nonceAt, NONCE));
        return stream;
    }

    /** NaCl's Poly1305 key is the first 32 bytes of keystream; the message is encrypted from byte 32 on. */
    private static Poly1305 oneTimeMac(XSalsa20Engine stream) {
        byte[] polyKey = new byte[POLY_KEY];
        stream.processBytes(polyKey, 0, POLY_KEY, polyKey, 0);
        Poly1305 mac = new Poly1305();
        mac.init(new KeyParameter(polyKey));
        Arrays.fill(polyKey, (byte) 0);
        return mac;
    }
}
