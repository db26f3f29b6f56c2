package dev.secretsencrypt.config;

import java.util.List;

/**
 * A decoded EncryptionConfiguration before validation: the same shape as {@link EncryptionConfig}, except that a
 * providers item may declare zero or several providers, as a file can.
 */
record ConfigDraft(String apiVersion, String kind, List<Rule> rules) {
    record Rule(List<String> resources, List<ProviderElement> providers) {
        Rule {
            resources = List.copyOf(resources);
            providers = List.copyOf(providers);
        }
    }

    ConfigDraft {
        rules = List.copyOf(rules);
    }

    static ConfigDraft of(EncryptionConfig c) {
        List<Rule> rules = c.resources().stream()
                .map(r -> new Rule(r.resources(), r.providers().stream().map(p -> new ProviderElement(List.of(p))).toList()))
                .toList();
        return new ConfigDraft(c.apiVersion(), c.kind(), rules);
    }

    /** Only for a draft that passed validation: every element then declares exactly one provider. */
    EncryptionConfig toConfig() {
        List<ResourceRule> resourceRules = rules.stream()
                .map(r -> new ResourceRule(r.resources(), r.providers().stream().map(e -> e.declared().get(0)).toList()))
                .toList();
        return new EncryptionConfig(apiVersion, kind, resourceRules);
    }
}
