package dev.secretsencrypt.rotation;

import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.config.EncryptionConfig;
import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.config.KmsProvider;
import dev.secretsencrypt.config.ProviderType;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What replacing a server's file with the cluster's config does to the data its kube-apiserver wrote: the guard of
 * {@code sync} and the agent, pure. A key the file holds but neither the new config nor the retired keys do would make
 * the values written with it unreadable (a server set up apart); a retired key as the file's writer means its
 * apiserver may have written values only that key reads (a server forgotten, then back with its old file).
 */
public final class FileKeys {
    private FileKeys() {
    }

    /**
     * The readers (keys, KMS providers, identity) of {@code onDisk} that neither {@code next} nor {@code retired}
     * holds, named without their secrets; empty when replacing the file loses nothing.
     */
    public static List<String> lostBy(EncryptionConfig onDisk, EncryptionConfig next, List<RetiredKey> retired) {
        Set<Reader> known = new HashSet<>(readersIn(next));
        retired.forEach(k -> known.add(Reader.of(k.type(), k.key())));
        return readersIn(onDisk).stream().filter(r -> !known.contains(r)).map(Reader::toString).distinct().toList();
    }

    /**
     * The retired keys that are {@code onDisk}'s writer (the first key of a rule's first provider). A retired key that
     * is only a reader there is the normal file of the stage before retirement: nothing was written with it since.
     */
    public static List<RetiredKey> retiredWriters(EncryptionConfig onDisk, List<RetiredKey> retired) {
        Map<Reader, RetiredKey> byReader = new HashMap<>();
        retired.forEach(k -> byReader.put(Reader.of(k.type(), k.key()), k));
        return onDisk.resources().stream().map(rule -> rule.providers().get(0))
                .filter(p -> p instanceof KeyedProvider k && !k.keys().isEmpty())
                .map(p -> (KeyedProvider) p)
                .map(k -> byReader.get(Reader.of(k.type(), k.keys().get(0))))
                .filter(Objects::nonNull).distinct().toList();
    }

    /**
     * A provider entry that can read stored data. A key is its type, name and a digest of its secret (a same-named key
     * with another secret is another key; base64 line-wrapping is not); toString names it without the secret.
     */
    private sealed interface Reader {
        record KeyReader(ProviderType type, String name, String secretSha256) implements Reader {
            @Override
            public String toString() {
                return type.field() + "/" + name;
            }
        }

        record KmsReader(String apiVersion, String name, String endpoint) implements Reader {
            @Override
            public String toString() {
                return "kms" + apiVersion + "/" + name;
            }
        }

        record IdentityReader() implements Reader {
            @Override
            public String toString() {
                return "identity";
            }
        }

        static Reader of(ProviderType type, Key key) {
            return new KeyReader(type, key.name(), ConfigFiles.sha256Hex(key.secretBytes()));
        }
    }

    /** Every provider entry of the config that can read stored data. */
    private static List<Reader> readersIn(EncryptionConfig config) {
        List<Reader> out = new ArrayList<>();
        config.resources().forEach(rule -> rule.providers().forEach(p -> {
            if (p instanceof KeyedProvider k) {
                k.keys().forEach(key -> out.add(Reader.of(k.type(), key)));
            } else if (p instanceof KmsProvider kms) {
                out.add(new Reader.KmsReader(kms.effectiveApiVersion(), kms.name(), kms.endpoint()));
            } else {
                out.add(new Reader.IdentityReader());
            }
        }));
        return out;
    }
}
