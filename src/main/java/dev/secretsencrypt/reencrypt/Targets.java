package dev.secretsencrypt.reencrypt;

import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.store.EtcdPrefix;
import dev.secretsencrypt.config.EncryptionConfig;
import dev.secretsencrypt.config.KeyRef;
import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.config.Provider;
import dev.secretsencrypt.config.ResourceRule;
import dev.secretsencrypt.envelope.ProviderChain;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/** Turns an EncryptionConfiguration into the etcd prefixes to page through, each with the chain that governs it. */
public final class Targets {
    private Targets() {
    }

    /**
     * One target per resource named in the config (first rule wins, as in kube-apiserver), or per resource in
     * {@code resourcesOverride} when that is non-empty. {@code extraReadKeys} are appended to every chain's read
     * order, after every configured key, so retired keys can read but never write.
     */
    public static List<Target> resolve(EncryptionConfig config, EtcdPrefix etcdPrefix, List<String> resourcesOverride,
            List<ReadOnlyKey> extraReadKeys) {
        List<String> override = resourcesOverride == null ? List.of() : resourcesOverride;
        List<ReadOnlyKey> extra = extraReadKeys == null ? List.of() : extraReadKeys;
        List<String> names = override.isEmpty() ? namedIn(config) : override;
        Map<ResourceRule, ProviderChain> chains = new IdentityHashMap<>();
        Set<KeyRef> archived = extra.stream().map(k -> new KeyRef(k.type(), k.key().name())).collect(Collectors.toSet());
        Map<String, Target> byPrefix = new LinkedHashMap<>();
        for (String raw : names) {
            String resource = raw.trim();
            if (resource.isEmpty()) {
                continue;
            }
            if (StoragePaths.isWildcard(resource)) {
                throw new CommandRefused("resource " + resource + " is a wildcard, and secrets-encrypt cannot"
                        + " tell which etcd prefixes it covers: name the resources to re-encrypt with --resources"
                        + " (for example --resources secrets,configmaps)");
            }
            ResourceRule rule = ruleFor(config, resource).orElseThrow(() -> new CommandRefused("resource "
                    + resource + " is not covered by any rule of the encryption config, so kube-apiserver does not"
                    + " encrypt it: remove it from --resources"));
            ProviderChain chain = chains.computeIfAbsent(rule, r -> withExtraReaders(r.providers(), extra));
            String prefix = etcdPrefix.under(StoragePaths.of(resource));
            // deployments.apps and deployments.extensions share one prefix: page through it once.
            byPrefix.putIfAbsent(prefix, new Target(resource, prefix, chain, archived));
        }
        return List.copyOf(byPrefix.values());
    }

    /**
     * How kube-apiserver reads {@code resource}: its rule's chain (first rule wins, wildcards too) with
     * {@code extraReadKeys} after it, or plaintext when no rule covers it.
     */
    public static ProviderChain readerOf(EncryptionConfig config, String resource, List<ReadOnlyKey> extraReadKeys) {
        return ruleFor(config, resource).map(r -> withExtraReaders(r.providers(), extraReadKeys))
                .orElseGet(() -> ProviderChain.of(List.of(new dev.secretsencrypt.config.IdentityProvider())));
    }

    /** True when a rule names a wildcard resource ({@code *.*}, {@code *.apps}): no list of prefixes covers it. */
    public static boolean namesAWildcard(EncryptionConfig config) {
        return namedIn(config).stream().map(String::trim).anyMatch(StoragePaths::isWildcard);
    }

    /** The rule's chain with the retired keys appended as read-only providers: the writer stays the rule's own. */
    static ProviderChain withExtraReaders(List<Provider> providers, List<ReadOnlyKey> extra) {
        List<Provider> all = new ArrayList<>(providers);
        for (ReadOnlyKey key : extra) {
            all.add(new KeyedProvider(key.type(), List.of(key.key())));
        }
        return ProviderChain.of(all);
    }

    private static List<String> namedIn(EncryptionConfig config) {
        List<String> names = new ArrayList<>();
        for (ResourceRule rule : config.resources()) {
            for (String resource : rule.resources()) {
                if (!names.contains(resource)) {
                    names.add(resource);
                }
            }
        }
        return names;
    }

    /** kube-apiserver's lookup: the exact name, then {@code *.<group>}, then {@code *.*}, first rule first. */
    private static Optional<ResourceRule> ruleFor(EncryptionConfig config, String resource) {
        String group = StoragePaths.groupOf(resource);
        for (String candidate : List.of(resource, "*." + group, "*.*")) {
            for (ResourceRule rule : config.resources()) {
                if (rule.resources().contains(candidate)) {
                    return Optional.of(rule);
                }
            }
        }
        return Optional.empty();
    }
}
