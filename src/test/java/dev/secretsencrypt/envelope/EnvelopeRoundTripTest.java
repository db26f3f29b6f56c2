package dev.secretsencrypt.envelope;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.ProviderType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** What each envelope writes is what it reads back, in exactly kube-apiserver's layout. */
@Tag("unit")
class EnvelopeRoundTripTest {
    private static final byte[] ETCD = "/registry/secrets/default/round-trip".getBytes(StandardCharsets.UTF_8);

    static Stream<Arguments> keys() {
        return Stream.of(
                Arguments.of(ProviderType.AESCBC, 16), Arguments.of(ProviderType.AESCBC, 24),
                Arguments.of(ProviderType.AESCBC, 32), Arguments.of(ProviderType.AESGCM, 16),
                Arguments.of(ProviderType.AESGCM, 24), Arguments.of(ProviderType.AESGCM, 32),
                Arguments.of(ProviderType.SECRETBOX, 32));
    }

    @ParameterizedTest(name = "{0} {1}-byte key")
    @MethodSource("keys")
    void sealThenOpenGivesThePlaintextBackForEveryLength(ProviderType type, int keyLength) throws UnreadableValue {
        Envelope envelope = Envelopes.of(type, UnreadableValueTest.key("k", keyLength, keyLength));
        Random random = new Random(keyLength);
        List<Integer> lengths = new ArrayList<>();
        for (int n = 0; n <= 48; n++) {
            lengths.add(n);
        }
        lengths.addAll(List.of(2048, 65_537, 1 << 20));
        for (int n : lengths) {
            byte[] plaintext = new byte[n];
            random.nextBytes(plaintext);
            byte[] stored = envelope.seal(plaintext, ETCD);
            assertEquals(envelope.prefix().length + bodyLength(type, n), stored.length, "length " + n);
            assertArrayEquals(plaintext, envelope.open(stored, ETCD), "length " + n);
        }
    }

    @ParameterizedTest(name = "{0} {1}-byte key")
    @MethodSource("keys")
    void everySealDrawsAFreshIvOrNonce(ProviderType type, int keyLength) {
        Envelope envelope = Envelopes.of(type, UnreadableValueTest.key("k", keyLength, 1));
        byte[] plaintext = "same plaintext".getBytes(StandardCharsets.UTF_8);
        byte[] first = envelope.seal(plaintext, ETCD);
        byte[] second = envelope.seal(plaintext, ETCD);
        int start = envelope.prefix().length;
        assertFalse(Arrays.equals(first, start, start + 12, second, start, start + 12));
    }

    @Test
    void prefixesAndDescriptionsAreKubernetesOwn() {
        Key key = Key.generate("aescbckey-2026-11-22T10:54:38Z", new byte[32]);
        assertEquals("k8s:enc:aescbc:v1:aescbckey-2026-11-22T10:54:38Z:", text(Envelopes.of(ProviderType.AESCBC, key)
                .prefix()));
        assertEquals("k8s:enc:aesgcm:v1:aescbckey-2026-11-22T10:54:38Z:", text(Envelopes.of(ProviderType.AESGCM, key)
                .prefix()));
        assertEquals("k8s:enc:secretbox:v1:aescbckey-2026-11-22T10:54:38Z:",
                text(Envelopes.of(ProviderType.SECRETBOX, key).prefix()));
        assertEquals("aescbc/aescbckey-2026-11-22T10:54:38Z", Envelopes.of(ProviderType.AESCBC, key).description());
        assertEquals("secretbox/aescbckey-2026-11-22T10:54:38Z",
                Envelopes.of(ProviderType.SECRETBOX, key).toString());
    }

    @Test
    void aescbcAlwaysPadsOneToSixteenBytes() throws UnreadableValue {
        Envelope cbc = Envelopes.of(ProviderType.AESCBC, UnreadableValueTest.key("k", 32, 2));
        for (int n = 0; n < 40; n++) {
            int ciphertext = cbc.seal(new byte[n], ETCD).length - cbc.prefix().length - 16;
            int pad = ciphertext - n;
            assertTrue(pad >= 1 && pad <= 16 && ciphertext % 16 == 0, "length " + n + " padded by " + pad);
        }
    }

    @Test
    void aesgcmBindsTheValueToItsEtcdKey() throws UnreadableValue {
        Envelope gcm = Envelopes.of(ProviderType.AESGCM, UnreadableValueTest.key("k", 32, 3));
        byte[] stored = gcm.seal("v".getBytes(StandardCharsets.UTF_8), ETCD);
        assertArrayEquals("v".getBytes(StandardCharsets.UTF_8), gcm.open(stored, ETCD));
        UnreadableValueTest.assertUnreadable(() -> gcm.open(stored, "/registry/secrets/default/copy".getBytes()),
                "/registry/secrets/default/copy", "authentication failed", stored);
    }

    @Test
    void keysOfTheWrongLengthAreRefusedWithoutShowingThem() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Envelopes.of(ProviderType.SECRETBOX, Key.generate("short", new byte[16])));
        assertEquals("secretbox key short is 16 bytes long, expected one of [32]", e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Envelopes.of(ProviderType.AESCBC, Key.generate("nine", new byte[9])));
    }

    @Test
    void envelopesAreSafeToShareBetweenThreads() throws Exception {
        List<Envelope> envelopes = List.of(
                Envelopes.of(ProviderType.AESCBC, UnreadableValueTest.key("a", 32, 4)),
                Envelopes.of(ProviderType.AESCBC, UnreadableValueTest.key("b", 16, 5)),
                Envelopes.of(ProviderType.AESGCM, UnreadableValueTest.key("c", 32, 6)),
                Envelopes.of(ProviderType.SECRETBOX, UnreadableValueTest.key("d", 32, 7)));
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> work = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int seed = t;
                work.add(pool.submit(() -> {
                    Random random = new Random(seed);
                    for (int i = 0; i < 2_000; i++) {
                        Envelope envelope = envelopes.get(random.nextInt(envelopes.size()));
                        byte[] plaintext = new byte[random.nextInt(300)];
                        random.nextBytes(plaintext);
                        assertArrayEquals(plaintext, envelope.open(envelope.seal(plaintext, ETCD), ETCD));
                    }
                    return null;
                }));
            }
            for (Future<?> f : work) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
    }

    private static int bodyLength(ProviderType type, int plaintext) {
        return switch (type) {
            case AESCBC -> 16 + (plaintext / 16 + 1) * 16;
            case AESGCM -> 12 + plaintext + 16;
            case SECRETBOX -> 24 + 16 + plaintext;
        };
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
    }
}
