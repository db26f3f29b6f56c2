package dev.secretsencrypt.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The token-derived key is part of what existing clusters stored: it must stay the JDK's PBKDF2WithHmacSHA256. */
@Tag("unit")
class TokenWrapTest {
    private static final byte[] SALT = HexFormat.of().parseHex("00112233445566778899aabbccddeeff");

    @Test
    void stateWrappedUnderTheJdksDerivedKeyOpensWithTheDerivedKey() throws Exception {
        for (String token : new String[] {"c2VjcmV0LXRva2VuLWZvci10aGUtY2x1c3Rlcg==", "t", "jeton-à-clé-ñ-€-𝄞"}) {
            byte[] jdkKey = SecretKeyFactory.getInstance(TokenWrap.KDF)
                    .generateSecret(new PBEKeySpec(token.toCharArray(), SALT, TokenWrap.ITERATIONS, 256)).getEncoded();
            byte[] sealedByJdkKey = new TokenWrapOfKey(jdkKey).wrap("state".getBytes(StandardCharsets.UTF_8));

            byte[] opened = TokenWrap.derive(token.toCharArray(), SALT, TokenWrap.ITERATIONS).unwrap(sealedByJdkKey, "/k");

            assertEquals("state", new String(opened, StandardCharsets.UTF_8), token);
        }
    }

    @Test
    void rfc7914TestVectorForPbkdf2HmacSha256() throws Exception {
        // RFC 7914 section 11: PBKDF2-HMAC-SHA256 (P="passwd", S="salt", c=1, dkLen=64); our derive takes 32 bytes
        byte[] expected = HexFormat.of().parseHex("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc");
        byte[] sealed = new TokenWrapOfKey(expected).wrap(new byte[] {1, 2, 3});

        byte[] opened = TokenWrap.derive("passwd".toCharArray(), "salt".getBytes(StandardCharsets.US_ASCII), 1).unwrap(sealed, "/k");

        assertArrayEquals(new byte[] {1, 2, 3}, opened);
    }

    @Test
    void anotherTokenDoesNotOpenTheState() {
        byte[] sealed = TokenWrap.derive("right".toCharArray(), SALT, 1000).wrap(new byte[] {9}, "/k");

        // EtcdState turns this into the operator's sentence, telling a wrong token from a damaged state
        assertThrows(TokenWrap.NotOpened.class, () -> TokenWrap.derive("wrong".toCharArray(), SALT, 1000).unwrap(sealed, "/k"));
        assertEquals(false, java.util.Arrays.equals(TokenWrap.derive("right".toCharArray(), SALT, 1000).tokenCheck(),
                TokenWrap.derive("wrong".toCharArray(), SALT, 1000).tokenCheck()), "the token check tells tokens apart");
    }

    @Test
    void aKeyThisProcessDerivedBeforeIsTheSameKeyAndNeverStandsInForAnotherSaltTokenOrCount() {
        byte[] sealed = TokenWrap.derive("remembered".toCharArray(), SALT, 1000).wrap(new byte[] {7}, "/k");
        for (int i = 0; i < 3; i++) {
            assertArrayEquals(new byte[] {7}, assertDoesNotThrow(() -> TokenWrap.derive("remembered".toCharArray(), SALT,
                    1000).unwrap(sealed, "/k")));
        }
        byte[] otherSalt = SALT.clone();
        otherSalt[0] ^= 1;
        assertThrows(TokenWrap.NotOpened.class, () -> TokenWrap.derive("remembered".toCharArray(), otherSalt, 1000)
                .unwrap(sealed, "/k"));
        assertThrows(TokenWrap.NotOpened.class, () -> TokenWrap.derive("remembered".toCharArray(), SALT, 1001)
                .unwrap(sealed, "/k"));
        assertThrows(TokenWrap.NotOpened.class, () -> TokenWrap.derive("remembere".toCharArray(), SALT, 1000)
                .unwrap(sealed, "/k"));
    }

    /** AES-256-GCM under a raw key, laid out as TokenWrap lays it out (nonce, ciphertext, tag; AAD "/k"). */
    private record TokenWrapOfKey(byte[] key) {
        byte[] wrap(byte[] plaintext) {
            try {
                byte[] nonce = new byte[12];
                javax.crypto.Cipher gcm = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding");
                gcm.init(javax.crypto.Cipher.ENCRYPT_MODE, new javax.crypto.spec.SecretKeySpec(key, "AES"),
                        new javax.crypto.spec.GCMParameterSpec(128, nonce));
                gcm.updateAAD("/k".getBytes(StandardCharsets.UTF_8));
                byte[] sealed = gcm.doFinal(plaintext);
                byte[] out = new byte[12 + sealed.length];
                System.arraycopy(sealed, 0, out, 12, sealed.length);
                return out;
            } catch (java.security.GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
