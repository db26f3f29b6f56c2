package dev.secretsencrypt.reencrypt;

import dev.secretsencrypt.envelope.ProviderChain;
import java.util.Objects;

/**
 * One resource to page through: its etcd key prefix and the provider chain its rule gives it. The prefix always
 * ends in {@code /}, so {@code /registry/secrets/} never takes in {@code /registry/secretsfoo/}.
 */
public record Target(String resource, String etcdPrefix, ProviderChain chain) {
    public Target {
        Objects.requireNonNull(resource, "resource");
        Objects.requireNonNull(chain, "chain");
        if (etcdPrefix == null || !etcdPrefix.endsWith("/") || etcdPrefix.length() < 2) {
            throw new IllegalArgumentException("the etcd prefix of " + resource + " must end with '/', got "
                    + etcdPrefix);
        }
    }
}
