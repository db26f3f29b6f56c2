package dev.secretsencrypt.envelope;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.config.ProviderType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Values sealed by openssl, python3-cryptography and PyNaCl (testdata/vectors/make-vectors.sh) open here. */
@Tag("unit")
class KubernetesVectorsTest {

    @TestFactory
    Stream<DynamicTest> everyVectorOpensToItsPlaintext() throws IOException {
        return VectorFile.read(VectorFile.VECTORS).stream().map(v -> DynamicTest.dynamicTest(v.name(), () -> {
            Envelope envelope = Envelopes.of(v.type(), v.key());
            assertArrayEquals(v.plaintext(), envelope.open(v.stored(), v.etcdKeyBytes()));
        }));
    }

    @TestFactory
    Stream<DynamicTest> everyVectorOpensThroughAChainWhereItsKeyIsNotFirst() throws IOException {
        return VectorFile.read(VectorFile.VECTORS).stream().map(v -> DynamicTest.dynamicTest(v.name(), () -> {
            Key newer = Key.generate("newer", new byte[32]);
            ProviderChain chain = ProviderChain.of(List.of(new KeyedProvider(v.type(), List.of(newer, v.key()))));
            if (!v.type().equals(ProviderType.AESCBC) || StorageForm.isStoredObject(v.plaintext())) {
                Opened opened = chain.open(v.stored(), v.etcdKeyBytes());
                assertArrayEquals(v.plaintext(), opened.plaintext());
                assertEquals(v.type().field() + "/" + v.key().name(), opened.by().description());
                assertTrue(opened.stale());
                return;
            }
            // unauthenticated aescbc: a plaintext kube-apiserver never stores is no proof the key is right
            UnreadableValue refused = assertThrows(UnreadableValue.class, () -> chain.open(v.stored(), v.etcdKeyBytes()));
            assertTrue(refused.reason().contains("not a stored Kubernetes object"), refused.reason());
        }));
    }

    @Test
    void vectorsCoverEveryProviderEveryAesKeySizeAndThePaddingEdges() throws IOException {
        List<VectorFile.Vector> vectors = VectorFile.read(VectorFile.VECTORS);
        Set<String> covered = vectors.stream()
                .map(v -> v.type().field() + "-" + v.key().secretBytes().length)
                .collect(Collectors.toSet());
        assertEquals(Set.of("aescbc-16", "aescbc-24", "aescbc-32", "aesgcm-16", "aesgcm-24", "aesgcm-32",
                "secretbox-32"), covered);
        Set<Integer> lengths = vectors.stream().map(v -> v.plaintext().length).collect(Collectors.toSet());
        assertTrue(lengths.containsAll(Set.of(0, 1, 15, 16, 17)), "plaintext lengths " + lengths);
        assertTrue(vectors.stream().anyMatch(v -> v.plaintext().length > 1900
                && new String(v.plaintext(), 0, 4, StandardCharsets.ISO_8859_1).equals("k8s\0")));
        assertTrue(vectors.stream().anyMatch(v -> v.key().name().contains(":")), "a key name with colons");
    }

    @Test
    void opensThePublishedKubernetesGcmVector() throws UnreadableValue {
        // aes_test.go, TestGCMLegacyDataCompatibility: key "snorlax_awesomes", AAD "bamboo".
        byte[] payload = HexFormat.of().parseHex("9f27c8fcea8a58c467d8e437dbf2d85955f9b4bd912f4ef967d788a0cb07797d"
                + "ac0a3f0a0845605ca85ac8562b4ae1");
        Envelope gcm = Envelopes.of(ProviderType.AESGCM,
                Key.generate("snorlax", "snorlax_awesomes".getBytes(StandardCharsets.US_ASCII)));
        byte[] stored = concat(gcm.prefix(), payload);

        byte[] plaintext = gcm.open(stored, "bamboo".getBytes(StandardCharsets.UTF_8));

        assertEquals("pandas are the best", new String(plaintext, StandardCharsets.UTF_8));
        assertEquals("k8s:enc:aesgcm:v1:snorlax:", new String(gcm.prefix(), StandardCharsets.UTF_8));
    }

    @Test
    void thePublishedGcmVectorIsBoundToItsAad() {
        byte[] payload = HexFormat.of().parseHex("9f27c8fcea8a58c467d8e437dbf2d85955f9b4bd912f4ef967d788a0cb07797d"
                + "ac0a3f0a0845605ca85ac8562b4ae1");
        Envelope gcm = Envelopes.of(ProviderType.AESGCM,
                Key.generate("snorlax", "snorlax_awesomes".getBytes(StandardCharsets.US_ASCII)));
        byte[] stored = concat(gcm.prefix(), payload);

        UnreadableValueTest.assertUnreadable(() -> gcm.open(stored, "/registry/secrets/x/y".getBytes()),
                "/registry/secrets/x/y", "authentication failed");
    }

    @Test
    void vectorsOpenOnlyUnderTheirOwnEtcdKeyWhenGcm() throws IOException {
        for (VectorFile.Vector v : VectorFile.read(VectorFile.VECTORS)) {
            if (v.type() != ProviderType.AESGCM) {
                continue;
            }
            Envelope envelope = Envelopes.of(v.type(), v.key());
            byte[] elsewhere = (v.etcdKey() + "-copy").getBytes(StandardCharsets.UTF_8);
            assertFalse(opens(envelope, v.stored(), elsewhere), v.name());
        }
    }

    private static boolean opens(Envelope envelope, byte[] stored, byte[] etcdKey) {
        try {
            envelope.open(stored, etcdKey);
            return true;
        } catch (UnreadableValue e) {
            return false;
        }
    }

    static byte[] concat(byte[] a, byte[] b) {
        byte[] out = new byte[a.length + b.length];
        System.arraycopy(a, 0, out, 0, a.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
