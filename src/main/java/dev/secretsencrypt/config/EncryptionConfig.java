package dev.secretsencrypt.config;

import java.util.List;
import java.util.Optional;

/**
 * An EncryptionConfiguration as kube-apiserver reads it: immutable, in file order.
 * {@code apiVersion}/{@code kind} are kept as read so the legacy {@code v1}/{@code EncryptionConfig} form survives.
 */
public record EncryptionConfig(String apiVersion, String kind, List<ResourceRule> resources) {
    public static final String API_VERSION = "apiserver.config.k8s.io/v1";
    public static final String KIND = "EncryptionConfiguration";

    public EncryptionConfig {
        resources = List.copyOf(resources);
    }

    public static EncryptionConfig of(List<ResourceRule> resources) {
        return new EncryptionConfig(API_VERSION, KIND, resources);
    }

    public EncryptionConfig withResources(List<ResourceRule> rules) {
        return new EncryptionConfig(apiVersion, kind, rules);
    }

    /**
     * The rule kube-apiserver applies to Secrets (what `status` shows and rotation is about): the first naming
     * {@code secrets}, else {@code *.} (every core resource), else {@code *.*}; empty when no rule covers them.
     */
    public Optional<ResourceRule> secretsRule() {
        for (String name : List.of("secrets", "*.", "*.*")) {
            Optional<ResourceRule> rule = resources.stream().filter(r -> r.resources().contains(name)).findFirst();
            if (rule.isPresent()) {
                return rule;
            }
        }
        return Optional.empty();
    }
}
