package dev.secretsencrypt.reencrypt;

import dev.secretsencrypt.config.EncryptionConfig;
import dev.secretsencrypt.config.IdentityProvider;
import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.config.ProviderType;
import dev.secretsencrypt.config.ResourceRule;
import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.envelope.Envelopes;
import java.util.List;
import java.util.Random;

/** The keys of a rotation in progress: a new active aescbc key, and old aescbc, aesgcm and secretbox keys. */
final class RotationKeys {
    static final Key ACTIVE = key("aescbckey-2026-11-22T10:54:38Z", 32, 11);
    static final Key OLD_CBC = key("aescbckey", 32, 12);
    static final Key OLD_GCM = key("aesgcmkey", 32, 13);
    static final Key OLD_BOX = key("secretboxkey", 32, 14);
    static final Key RETIRED = key("aescbckey-2025-01-01T00:00:00Z", 32, 15);

    static final Envelope ACTIVE_CBC = Envelopes.of(ProviderType.AESCBC, ACTIVE);
    static final Envelope OLD_CBC_ENVELOPE = Envelopes.of(ProviderType.AESCBC, OLD_CBC);
    static final Envelope OLD_GCM_ENVELOPE = Envelopes.of(ProviderType.AESGCM, OLD_GCM);
    static final Envelope OLD_BOX_ENVELOPE = Envelopes.of(ProviderType.SECRETBOX, OLD_BOX);
    static final Envelope RETIRED_ENVELOPE = Envelopes.of(ProviderType.AESCBC, RETIRED);

    private RotationKeys() {
    }

    /** After {@code rotate}: the new key first, every old key still readable, plaintext readable last. */
    static EncryptionConfig config(List<String> resources) {
        return EncryptionConfig.of(List.of(new ResourceRule(resources, List.of(
                new KeyedProvider(ProviderType.AESCBC, List.of(ACTIVE, OLD_CBC)),
                new KeyedProvider(ProviderType.AESGCM, List.of(OLD_GCM)),
                new KeyedProvider(ProviderType.SECRETBOX, List.of(OLD_BOX)),
                new IdentityProvider()))));
    }

    static Key key(String name, int length, int seed) {
        byte[] secret = new byte[length];
        new Random(seed).nextBytes(secret);
        return Key.generate(name, secret);
    }
}
