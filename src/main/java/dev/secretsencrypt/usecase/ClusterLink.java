package dev.secretsencrypt.usecase;

import dev.secretsencrypt.store.Membership;
import dev.secretsencrypt.store.ServerRegistry;

/** How a server in cluster mode is tied to its cluster: the registry of servers, and where the cluster state is. */
record ClusterLink(ServerRegistry registry, String endpoints, String statePrefix) {
    Membership.Joined joined() {
        return new Membership.Joined(registry.clusterId(), endpoints, statePrefix);
    }
}
