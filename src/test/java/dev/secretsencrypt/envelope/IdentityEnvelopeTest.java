package dev.secretsencrypt.envelope;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class IdentityEnvelopeTest {
    private static final byte[] ETCD = "/registry/configmaps/default/c".getBytes(StandardCharsets.UTF_8);

    @Test
    void storesAndReadsThePlaintextUnchanged() throws UnreadableValue {
        Envelope identity = Envelopes.identity();
        byte[] plaintext = "k8s\0\n\u0002v1".getBytes(StandardCharsets.ISO_8859_1);
        assertSame(plaintext, identity.seal(plaintext, ETCD));
        assertSame(plaintext, identity.open(plaintext, ETCD));
        assertArrayEquals(new byte[0], identity.prefix());
        assertEquals("identity", identity.description());
    }

    @Test
    void neverReadsAValueMarkedAsEncrypted() {
        byte[] stored = "k8s:enc:aescbc:v1:key1:0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8);
        UnreadableValueTest.assertUnreadable(() -> Envelopes.identity().open(stored, ETCD),
                "/registry/configmaps/default/c", "identity: identity transformer tried to read encrypted data",
                stored);
    }

    @Test
    void readsValuesThatOnlyLookSimilarToTheMarker() throws UnreadableValue {
        byte[] almost = "k8s:en".getBytes(StandardCharsets.UTF_8);
        assertSame(almost, Envelopes.identity().open(almost, ETCD));
        byte[] empty = new byte[0];
        assertSame(empty, Envelopes.identity().open(empty, ETCD));
    }
}
