package dev.secretsencrypt.reencrypt;

import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Where kube-apiserver keeps a resource under its {@code --etcd-prefix}, as its storage factory decides
 * (k8s.io/kubernetes pkg/kubeapiserver/default_storage_factory_builder.go, apiextensions-apiserver):
 * core and built-in group resources by resource name alone ({@code deployments.apps} → {@code deployments}),
 * custom resources and the two aggregated servers by {@code <group>/<resource>}. Getting this wrong is not
 * harmless: {@code /registry/services/} also holds {@code services/endpoints}, which another rule may govern.
 */
final class StoragePaths {
    // SpecialDefaultResourcePrefixes: the few resources kube-apiserver stores under another name.
    private static final Map<String, String> SPECIAL = Map.of(
            "replicationcontrollers", "controllers",
            "endpoints", "services/endpoints",
            "nodes", "minions",
            "services", "services/specs",
            "ingresses.extensions", "ingress",
            "ingresses.networking.k8s.io", "ingress",
            "podsecuritypolicies.extensions", "podsecuritypolicy",
            "podsecuritypolicies.policy", "podsecuritypolicy");

    // Groups served by kube-apiserver's own storage factory, which leaves the group out of the key.
    private static final Set<String> BUILT_IN_GROUPS = Set.of(
            "apps", "batch", "autoscaling", "policy", "extensions", "networking.k8s.io",
            "rbac.authorization.k8s.io", "storage.k8s.io", "coordination.k8s.io", "admissionregistration.k8s.io",
            "certificates.k8s.io", "discovery.k8s.io", "events.k8s.io", "flowcontrol.apiserver.k8s.io",
            "node.k8s.io", "scheduling.k8s.io", "resource.k8s.io", "storagemigration.k8s.io",
            "internal.apiserver.k8s.io", "authentication.k8s.io", "authorization.k8s.io");

    private StoragePaths() {
    }

    /** The path below the etcd prefix, without slashes at either end: {@code secrets}, {@code example.com/widgets}. */
    static String of(String resource) {
        String name = resource.toLowerCase(Locale.ROOT);
        String special = SPECIAL.get(name);
        if (special != null) {
            return special;
        }
        int dot = name.indexOf('.');
        if (dot < 0) {
            return name;
        }
        String plural = name.substring(0, dot);
        String group = name.substring(dot + 1);
        if (group.isEmpty() || BUILT_IN_GROUPS.contains(group)) {
            return plural;
        }
        return group + "/" + plural;
    }

    static String groupOf(String resource) {
        int dot = resource.indexOf('.');
        return dot < 0 ? "" : resource.substring(dot + 1);
    }

    static boolean isWildcard(String resource) {
        return resource.startsWith("*.");
    }
}
