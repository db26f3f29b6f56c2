package dev.secretsencrypt.envelope;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.config.IdentityProvider;
import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.config.KmsProvider;
import dev.secretsencrypt.config.Provider;
import dev.secretsencrypt.config.ProviderType;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class ProviderChainTest {
    private static final byte[] ETCD = "/registry/secrets/kube-system/token".getBytes(StandardCharsets.UTF_8);
    private static final byte[] PLAINTEXT = "k8s\0secret".getBytes(StandardCharsets.ISO_8859_1);
    private static final Key NEW = UnreadableValueTest.key("aescbckey-2026-11-22T10:54:38Z", 32, 1);
    private static final Key OLD = UnreadableValueTest.key("aescbckey", 32, 2);

    @Test
    void writesWithTheFirstKeyOfTheFirstProviderAndReadsInConfigOrder() {
        ProviderChain chain = chain(
                new KeyedProvider(ProviderType.AESCBC, List.of(NEW, OLD)),
                new KeyedProvider(ProviderType.SECRETBOX, List.of(UnreadableValueTest.key("box", 32, 3))),
                new IdentityProvider(),
                new KmsProvider(null, "legacy", "unix:///kms.sock", 1000, "3s"));

        assertEquals("aescbc/aescbckey-2026-11-22T10:54:38Z", chain.writer().description());
        assertEquals(List.of("aescbc/aescbckey-2026-11-22T10:54:38Z", "aescbc/aescbckey", "secretbox/box", "identity",
                "kmsv1/legacy"), chain.readOrder().stream().map(Envelope::description).toList());
        assertSame(chain.writer(), chain.readOrder().get(0));
    }

    @Test
    void aValueUnderTheWriterIsNotStaleAndAnyOtherIs() throws UnreadableValue {
        ProviderChain chain = chain(new KeyedProvider(ProviderType.AESCBC, List.of(NEW, OLD)), new IdentityProvider());

        Opened current = chain.open(chain.writer().seal(PLAINTEXT, ETCD), ETCD);
        assertArrayEquals(PLAINTEXT, current.plaintext());
        assertSame(chain.writer(), current.by());
        assertFalse(current.stale());

        Opened old = chain.open(Envelopes.of(ProviderType.AESCBC, OLD).seal(PLAINTEXT, ETCD), ETCD);
        assertArrayEquals(PLAINTEXT, old.plaintext());
        assertEquals("aescbc/aescbckey", old.by().description());
        assertTrue(old.stale());

        Opened plain = chain.open(PLAINTEXT, ETCD);
        assertEquals("identity", plain.by().description());
        assertTrue(plain.stale());
    }

    @Test
    void identityFirstWritesPlaintextAndStillReadsEncryptedValues() throws UnreadableValue {
        ProviderChain chain = chain(new IdentityProvider(), new KeyedProvider(ProviderType.AESCBC, List.of(NEW)));
        assertSame(Envelopes.identity(), chain.writer());

        Opened encrypted = chain.open(Envelopes.of(ProviderType.AESCBC, NEW).seal(PLAINTEXT, ETCD), ETCD);
        assertArrayEquals(PLAINTEXT, encrypted.plaintext());
        assertEquals("aescbc/aescbckey-2026-11-22T10:54:38Z", encrypted.by().description());
        assertTrue(encrypted.stale());

        Opened plain = chain.open(PLAINTEXT, ETCD);
        assertSame(PLAINTEXT, plain.plaintext());
        assertFalse(plain.stale());
    }

    @Test
    void overlappingAescbcPrefixesFallThroughToTheKeyThatReadsTheValue() throws UnreadableValue {
        // "k8s:enc:aescbc:v1:A:" is a prefix of every value written by key "A:B".
        Key a = UnreadableValueTest.key("A", 32, 4);
        Key ab = UnreadableValueTest.key("A:B", 32, 5);
        ProviderChain chain = chain(new KeyedProvider(ProviderType.AESCBC, List.of(a, ab)));

        Opened opened = chain.open(Envelopes.of(ProviderType.AESCBC, ab).seal(PLAINTEXT, ETCD), ETCD);

        assertArrayEquals(PLAINTEXT, opened.plaintext());
        assertEquals("aescbc/A:B", opened.by().description());
        assertTrue(opened.stale());
        assertFalse(chain.open(chain.writer().seal(PLAINTEXT, ETCD), ETCD).stale());
    }

    @Test
    void sameKeyNameInTwoProvidersOfOneTypeFallsThroughToTheSecond() throws UnreadableValue {
        // Kubernetes' own example: two aes providers, each with a key named "1", being rotated between.
        Key first = UnreadableValueTest.key("1", 32, 6);
        Key second = UnreadableValueTest.key("1", 32, 7);
        ProviderChain chain = chain(new KeyedProvider(ProviderType.AESGCM, List.of(first)),
                new KeyedProvider(ProviderType.AESGCM, List.of(second)));

        Opened opened = chain.open(Envelopes.of(ProviderType.AESGCM, second).seal(PLAINTEXT, ETCD), ETCD);

        assertArrayEquals(PLAINTEXT, opened.plaintext());
        assertSame(chain.readOrder().get(1), opened.by());
        assertTrue(opened.stale());
    }

    @Test
    void aKmsProviderFirstHasNoWriterButOtherValuesStayReadable() throws UnreadableValue {
        ProviderChain chain = chain(new KmsProvider("v2", "vault", "unix:///kms.sock", null, null),
                new KeyedProvider(ProviderType.AESCBC, List.of(OLD)));

        IllegalStateException e = assertThrows(IllegalStateException.class, chain::writer);
        assertTrue(e.getMessage().contains("KMS provider vault"), e.getMessage());
        assertTrue(e.getMessage().contains("put an aescbc, aesgcm or secretbox provider first"), e.getMessage());

        Opened opened = chain.open(Envelopes.of(ProviderType.AESCBC, OLD).seal(PLAINTEXT, ETCD), ETCD);
        assertArrayEquals(PLAINTEXT, opened.plaintext());
        assertTrue(opened.stale());
        assertThrows(IllegalStateException.class, () -> chain.readOrder().get(0).seal(PLAINTEXT, ETCD));
        assertEquals("k8s:enc:kms:v2:vault:", new String(chain.readOrder().get(0).prefix(), StandardCharsets.UTF_8));
    }

    @Test
    void refusesAnEmptyProviderList() {
        assertThrows(IllegalArgumentException.class, () -> ProviderChain.of(List.of()));
    }

    @Test
    void readOrderCannotBeChanged() {
        ProviderChain chain = chain(new IdentityProvider());
        assertThrows(UnsupportedOperationException.class, () -> chain.readOrder().add(Envelopes.identity()));
    }

    private static ProviderChain chain(Provider... providers) {
        return ProviderChain.of(List.of(providers));
    }

    @Test
    void aValueTwoOverlappingAescbcKeysBothOpenIsReadByTheKeyThatWroteItNeverAsGarbage() throws Exception {
        Key shortName = Key.generate("a", new byte[32]);
        byte[] other = new byte[32];
        other[0] = 1;
        Key longName = Key.generate("a:bcdefghijklmnop", other); // the suffix is one AES block long
        ProviderChain chain = ProviderChain.of(List.of(new KeyedProvider(ProviderType.AESCBC, List.of(shortName, longName))));
        Envelope writer = Envelopes.of(ProviderType.AESCBC, longName);
        byte[] etcdKey = "/registry/secrets/ns/s".getBytes(StandardCharsets.UTF_8);
        byte[] plaintext = "k8s\0the real secret".getBytes(StandardCharsets.ISO_8859_1);
        int ambiguous = 0;
        for (int i = 0; i < 4000; i++) {
            byte[] stored = writer.seal(plaintext, etcdKey);
            boolean shortKeyOpensIt;
            try {
                Envelopes.of(ProviderType.AESCBC, shortName).open(stored, etcdKey);
                shortKeyOpensIt = true;
            } catch (UnreadableValue e) {
                shortKeyOpensIt = false;
            }
            if (shortKeyOpensIt) {
                ambiguous++; // the short key's garbage is no stored object, so the chain goes on to the key that wrote it
            }
            Opened opened = chain.open(stored, etcdKey);
            assertArrayEquals(plaintext, opened.plaintext());
            assertEquals("aescbc/a:bcdefghijklmnop", opened.by().description());
        }
        assertTrue(ambiguous > 0, "4000 values should include some the wrong key 'opens' (about 1 in 256)");
    }

    @Test
    void anAescbcKeyThatOpensAValueToSomethingKubeApiserverNeverStoresDoesNotReadIt() throws Exception {
        Key ours = Key.generate("aescbckey", new byte[32]);
        byte[] theirSecret = new byte[32];
        theirSecret[31] = 7;
        Envelope theirs = Envelopes.of(ProviderType.AESCBC, Key.generate("aescbckey", theirSecret));
        ProviderChain chain = ProviderChain.of(List.of(new KeyedProvider(ProviderType.AESCBC, List.of(ours))));
        byte[] etcdKey = "/registry/secrets/ns/s".getBytes(StandardCharsets.UTF_8);
        int garbage = 0;
        for (int i = 0; i < 4000; i++) {
            byte[] stored = theirs.seal("k8s\0another cluster's secret".getBytes(StandardCharsets.ISO_8859_1), etcdKey);
            try {
                Envelopes.of(ProviderType.AESCBC, ours).open(stored, etcdKey);
                garbage++;
            } catch (UnreadableValue wrongPadding) {
                continue;
            }
            UnreadableValue e = assertThrows(UnreadableValue.class, () -> chain.open(stored, etcdKey));
            assertTrue(e.getMessage().contains("not a stored Kubernetes object"), e.getMessage());
        }
        assertTrue(garbage > 0, "4000 values should include some the wrong secret 'opens' (about 1 in 256)");
    }

    @Test
    void whatKubeApiserverStoresIsReadUnderAescbc() throws Exception {
        Envelope cbc = Envelopes.of(ProviderType.AESCBC, Key.generate("k", new byte[32]));
        ProviderChain chain = ProviderChain.of(List.of(new KeyedProvider(ProviderType.AESCBC, List.of(
                Key.generate("k", new byte[32])))));
        byte[] etcdKey = "/registry/secrets/ns/s".getBytes(StandardCharsets.UTF_8);
        for (String stored : List.of("k8s\0\n\u0002v1", "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"data\":{}}",
                " {\"kind\":\"Secret\",\"apiVersion\":\"v1\"}\n", "apiVersion: v1\nkind: Secret\ndata: {}\n")) {
            byte[] plain = stored.getBytes(StandardCharsets.ISO_8859_1);
            assertArrayEquals(plain, chain.open(cbc.seal(plain, etcdKey), etcdKey).plaintext(), stored);
        }
        byte[] cbor = {(byte) 0xd9, (byte) 0xd9, (byte) 0xf7, (byte) 0xa2, 0x64}; // self-described CBOR (KEP-4222)
        assertArrayEquals(cbor, chain.open(cbc.seal(cbor, etcdKey), etcdKey).plaintext());
        for (String notStored : List.of("{\"kind\":\"Secret\"}", "[1,2]", "plain text", "{\"apiVersion\":\"v1\",\"kind\":1")) {
            byte[] plain = notStored.getBytes(StandardCharsets.ISO_8859_1);
            assertThrows(UnreadableValue.class, () -> chain.open(cbc.seal(plain, etcdKey), etcdKey), notStored);
        }
    }
}
