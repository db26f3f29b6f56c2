package dev.secretsencrypt.usecase;

import dev.secretsencrypt.store.EtcdPrefix;
import dev.secretsencrypt.store.KubernetesData;
import dev.secretsencrypt.store.Membership;
import dev.secretsencrypt.store.RetiredKeysInUse;
import dev.secretsencrypt.store.ServerRegistry;

/**
 * How a server in cluster mode is tied to its cluster: the registry of servers, where the cluster state is, the
 * kube-apiservers that run (their identity leases), the servers found holding a retired key, and kube-apiserver's
 * data under its {@code --etcd-prefix}.
 */
record ClusterLink(ServerRegistry registry, String endpoints, String statePrefix, IdentityLeases leases,
                   RetiredKeysInUse findings, KubernetesData data, EtcdPrefix etcdPrefix) {
    Membership.Joined joined() {
        return new Membership.Joined(registry.clusterId(), endpoints, statePrefix);
    }
}
