package dev.secretsencrypt.config;

import java.util.List;

/** One element of {@code resources}: which resources, and the providers that read and write them, in order. */
public record ResourceRule(List<String> resources, List<Provider> providers) {
    public ResourceRule {
        resources = List.copyOf(resources);
        providers = List.copyOf(providers);
    }

    public ResourceRule withProviders(List<Provider> next) {
        return new ResourceRule(resources, next);
    }
}
