package dev.secretsencrypt.reencrypt;

import dev.secretsencrypt.envelope.ProviderChain;
import dev.secretsencrypt.config.KeyRef;
import java.util.Objects;
import java.util.Set;

/**
 * One resource to page through: its etcd key prefix and the provider chain its rule gives it, with the retired
 * (archived) keys appended for reading, named in {@code archivedKeys} because kube-apiserver no longer has them. The prefix always
 * ends in {@code /}, so {@code /registry/secrets/} never takes in {@code /registry/secretsfoo/}.
 */
public record Target(String resource, String etcdPrefix, ProviderChain chain, Set<KeyRef> archivedKeys) {
    public Target {
        archivedKeys = Set.copyOf(archivedKeys);
        Objects.requireNonNull(resource, "resource");
        Objects.requireNonNull(chain, "chain");
        if (etcdPrefix == null || !etcdPrefix.endsWith("/") || etcdPrefix.length() < 2) {
            throw new IllegalArgumentException("the etcd prefix of " + resource + " must end with '/', got "
                    + etcdPrefix);
        }
    }
}
