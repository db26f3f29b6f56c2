package dev.secretsencrypt.envelope;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.config.IdentityProvider;
import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.config.KmsProvider;
import dev.secretsencrypt.config.ProviderType;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** Every way a stored value can be unreadable names the etcd key and the reason, and never a byte. */
@Tag("unit")
class UnreadableValueTest {
    private static final String ETCD_KEY = "/registry/secrets/prod/db-password";
    private static final byte[] ETCD = ETCD_KEY.getBytes(StandardCharsets.UTF_8);
    private static final Key CBC_KEY = key("key1", 32, 1);
    private static final Key GCM_KEY = key("key1", 16, 2);
    private static final Key BOX_KEY = key("key1", 32, 3);
    private static final byte[] PLAINTEXT = "k8s\0 a fifteen".getBytes(StandardCharsets.ISO_8859_1);

    @Test
    void aescbcValueTooShortToHoldAnIvAndABlock() {
        Envelope cbc = Envelopes.of(ProviderType.AESCBC, CBC_KEY);
        byte[] stored = KubernetesVectorsTest.concat(cbc.prefix(), new byte[16]);
        assertUnreadable(() -> cbc.open(stored, ETCD), ETCD_KEY, "aescbc/key1: too short", stored, secret(CBC_KEY));
    }

    @Test
    void aescbcCiphertextNotAMultipleOfTheBlockSize() {
        Envelope cbc = Envelopes.of(ProviderType.AESCBC, CBC_KEY);
        byte[] stored = Arrays.copyOf(cbc.seal(PLAINTEXT, ETCD), cbc.prefix().length + 16 + 17);
        assertUnreadable(() -> cbc.open(stored, ETCD), ETCD_KEY, "aescbc/key1: ciphertext is not a multiple of the"
                + " block size", stored, secret(CBC_KEY));
    }

    @Test
    void aescbcInvalidPadding() {
        Envelope cbc = Envelopes.of(ProviderType.AESCBC, CBC_KEY);
        byte[] stored = cbc.seal(PLAINTEXT, ETCD);
        // CBC: flipping an IV bit flips the same plaintext bit; the last byte of a one-block value is its pad.
        stored[cbc.prefix().length + 15] ^= (byte) 0x80;
        assertUnreadable(() -> cbc.open(stored, ETCD), ETCD_KEY, "aescbc/key1: invalid padding", stored,
                secret(CBC_KEY));
    }

    @Test
    void aesgcmTagMismatch() {
        Envelope gcm = Envelopes.of(ProviderType.AESGCM, GCM_KEY);
        byte[] stored = gcm.seal(PLAINTEXT, ETCD);
        stored[stored.length - 1] ^= 1;
        assertUnreadable(() -> gcm.open(stored, ETCD), ETCD_KEY, "aesgcm/key1: authentication failed", stored,
                secret(GCM_KEY));
    }

    @Test
    void aesgcmValueTooShortForNonceAndTag() {
        Envelope gcm = Envelopes.of(ProviderType.AESGCM, GCM_KEY);
        byte[] stored = KubernetesVectorsTest.concat(gcm.prefix(), new byte[27]);
        assertUnreadable(() -> gcm.open(stored, ETCD), ETCD_KEY, "aesgcm/key1: too short", stored, secret(GCM_KEY));
    }

    @Test
    void secretboxTagMismatchAndTooShort() {
        Envelope box = Envelopes.of(ProviderType.SECRETBOX, BOX_KEY);
        byte[] stored = box.seal(PLAINTEXT, ETCD);
        stored[stored.length - 1] ^= 1;
        assertUnreadable(() -> box.open(stored, ETCD), ETCD_KEY, "secretbox/key1: authentication failed", stored,
                secret(BOX_KEY));
        byte[] shortValue = KubernetesVectorsTest.concat(box.prefix(), new byte[39]);
        assertUnreadable(() -> box.open(shortValue, ETCD), ETCD_KEY, "secretbox/key1: too short", shortValue,
                secret(BOX_KEY));
    }

    @Test
    void wrongKeyUnderTheRightNameIsAnAuthenticationFailure() {
        byte[] stored = Envelopes.of(ProviderType.AESGCM, GCM_KEY).seal(PLAINTEXT, ETCD);
        Envelope impostor = Envelopes.of(ProviderType.AESGCM, key("key1", 16, 9));
        assertUnreadable(() -> impostor.open(stored, ETCD), ETCD_KEY, "authentication failed", stored,
                secret(GCM_KEY));
    }

    @Test
    void unknownKeyNameNamesThePrefix() {
        byte[] stored = Envelopes.of(ProviderType.AESCBC, key("retired", 32, 4)).seal(PLAINTEXT, ETCD);
        ProviderChain chain = chainOf(new KeyedProvider(ProviderType.AESCBC, List.of(CBC_KEY)),
                new IdentityProvider());
        UnreadableValue e = assertUnreadable(() -> chain.open(stored, ETCD), ETCD_KEY,
                "no configured key matches its prefix k8s:enc:aescbc:v1:retired:", stored, secret(CBC_KEY));
        assertEquals(ETCD_KEY, e.etcdKey());
    }

    @Test
    void unprintableKeyNameIsNotEchoed() {
        byte[] stored = "k8s:enc:aescbc:v1:\u0001\u00ff\u0002:0123456789abcdef0123456789abcdef"
                .getBytes(StandardCharsets.ISO_8859_1);
        ProviderChain chain = chainOf(new KeyedProvider(ProviderType.AESCBC, List.of(CBC_KEY)));
        UnreadableValue e = assertUnreadable(() -> chain.open(stored, ETCD), ETCD_KEY,
                "no configured key matches its prefix k8s:enc:aescbc:v1: ", stored);
        assertTrue(e.getMessage().chars().allMatch(c -> c >= 0x20 && c < 0x7f), e.getMessage());
    }

    @Test
    void kmsValueNeedsThePluginWhetherOrNotItsProviderIsConfigured() {
        byte[] stored = "k8s:enc:kms:v2:vault:\n\u0012opaque-envelope-bytes".getBytes(StandardCharsets.ISO_8859_1);
        ProviderChain withKms = chainOf(new KeyedProvider(ProviderType.AESCBC, List.of(CBC_KEY)),
                new KmsProvider("v2", "vault", "unix:///kms.sock", null, "3s"));
        assertUnreadable(() -> withKms.open(stored, ETCD), ETCD_KEY, "kmsv2/vault: encrypted by KMS provider vault"
                + " (kms v2): reading it needs the KMS plugin", stored);
        ProviderChain withoutKms = chainOf(new KeyedProvider(ProviderType.AESCBC, List.of(CBC_KEY)));
        UnreadableValue e = assertUnreadable(() -> withoutKms.open(stored, ETCD), ETCD_KEY,
                "encrypted by KMS provider vault (kms v2)", stored);
        assertFalse(e.getMessage().contains("opaque"), e.getMessage());
    }

    @Test
    void plaintextWithoutAnIdentityProvider() {
        byte[] stored = PLAINTEXT;
        ProviderChain chain = chainOf(new KeyedProvider(ProviderType.SECRETBOX, List.of(BOX_KEY)));
        UnreadableValue e = assertUnreadable(() -> chain.open(stored, ETCD), ETCD_KEY,
                "stored unencrypted and no identity provider", stored);
        assertFalse(e.getMessage().contains("fifteen"), e.getMessage());
    }

    @Test
    void chainReportsTheReasonOfTheLastCandidateThatTried() {
        Envelope writer = Envelopes.of(ProviderType.AESGCM, GCM_KEY);
        byte[] stored = writer.seal(PLAINTEXT, ETCD);
        stored[stored.length - 1] ^= 1;
        ProviderChain chain = chainOf(new IdentityProvider(),
                new KeyedProvider(ProviderType.AESGCM, List.of(key("other", 32, 5), GCM_KEY)));
        assertUnreadable(() -> chain.open(stored, ETCD), ETCD_KEY, "aesgcm/key1: authentication failed", stored,
                secret(GCM_KEY));
    }

    @Test
    void controlCharactersInTheEtcdKeyAreNeutralised() {
        UnreadableValue e = new UnreadableValue("/registry/secrets/a/\u001b[2Jb".getBytes(StandardCharsets.UTF_8),
                "why");
        assertEquals("cannot read /registry/secrets/a/?[2Jb: why", e.getMessage());
    }

    static UnreadableValue assertUnreadable(Executable open, String etcdKey, String reason, byte[]... material) {
        UnreadableValue e = assertThrows(UnreadableValue.class, open);
        assertTrue(e.getMessage().startsWith("cannot read " + etcdKey + ": "), e.getMessage());
        assertTrue(e.getMessage().contains(reason), () -> "expected <" + reason + "> in: " + e.getMessage());
        for (byte[] bytes : material) {
            assertNoEncodingOf(bytes, e.getMessage());
        }
        return e;
    }

    /** No 8-character run of the value's or key's base64 or hex (any case) may appear in the message. */
    static void assertNoEncodingOf(byte[] bytes, String message) {
        for (String encoded : List.of(Base64.getEncoder().encodeToString(bytes),
                Base64.getUrlEncoder().encodeToString(bytes), HexFormat.of().formatHex(bytes),
                HexFormat.of().withUpperCase().formatHex(bytes))) {
            for (int i = 0; i + 8 <= encoded.length(); i++) {
                String run = encoded.substring(i, i + 8);
                assertFalse(message.contains(run), () -> "message leaks encoded bytes: " + message);
            }
        }
    }

    static Key key(String name, int length, int seed) {
        byte[] secret = new byte[length];
        for (int i = 0; i < length; i++) {
            secret[i] = (byte) (seed * 31 + i * 7);
        }
        return Key.generate(name, secret);
    }

    private static byte[] secret(Key key) {
        return key.secretBytes();
    }

    private static ProviderChain chainOf(dev.secretsencrypt.config.Provider... providers) {
        return ProviderChain.of(List.of(providers));
    }
}
