package dev.secretsencrypt.rotation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.secretsencrypt.config.EncryptionConfig;
import dev.secretsencrypt.config.IdentityProvider;
import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.config.Provider;
import dev.secretsencrypt.config.ProviderType;
import dev.secretsencrypt.config.ResourceRule;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** What replacing a server's file does to the data its kube-apiserver wrote: keys lost, retired writers. */
@Tag("unit")
class FileKeysTest {
    static final Key OLD = Key.generate("aescbckey", new byte[32]);
    static final Key NEW = Key.generate("aescbckey-2026", filled(7));
    static final RetiredKey OLD_RETIRED = new RetiredKey(ProviderType.AESCBC, OLD, Instant.parse("2026-12-01T00:00:00Z"));

    static byte[] filled(int b) {
        byte[] k = new byte[32];
        java.util.Arrays.fill(k, (byte) b);
        return k;
    }

    static EncryptionConfig config(Provider... providers) {
        return EncryptionConfig.of(List.of(new ResourceRule(List.of("secrets"), List.of(providers))));
    }

    static KeyedProvider aescbc(Key... keys) {
        return new KeyedProvider(ProviderType.AESCBC, List.of(keys));
    }

    @Test
    void aKeyNeitherTheNewConfigNorTheRetiredKeysHoldIsLostAndNamedWithoutItsSecret() {
        Key apart = Key.generate("set-up-apart", filled(9));
        assertEquals(List.of("aescbc/set-up-apart"), FileKeys.lostBy(config(aescbc(apart, OLD), new IdentityProvider()),
                config(aescbc(NEW, OLD), new IdentityProvider()), List.of()));
        assertEquals(List.of(), FileKeys.lostBy(config(aescbc(OLD)), config(aescbc(NEW)), List.of(OLD_RETIRED)),
                "a retired key is kept wrapped: nothing is lost");
        Key sameNameOtherSecret = Key.generate("aescbckey", filled(3));
        assertEquals(List.of("aescbc/aescbckey"), FileKeys.lostBy(config(aescbc(sameNameOtherSecret)),
                config(aescbc(NEW, OLD)), List.of()), "a same-named key with another secret is another key");
    }

    @Test
    void aRetiredKeyIsAFindingOnlyAsTheFilesWriter() {
        assertEquals(List.of(OLD_RETIRED), FileKeys.retiredWriters(config(aescbc(OLD), new IdentityProvider()),
                List.of(OLD_RETIRED)), "a server back with its old file writes with it");
        assertEquals(List.of(), FileKeys.retiredWriters(config(aescbc(NEW, OLD)), List.of(OLD_RETIRED)),
                "the rotated file only reads with it: the normal file right before retirement");
        assertEquals(List.of(), FileKeys.retiredWriters(config(new IdentityProvider(), aescbc(OLD)),
                List.of(OLD_RETIRED)), "a disabled file writes plaintext");
    }
}
