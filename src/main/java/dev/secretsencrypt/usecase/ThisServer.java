package dev.secretsencrypt.usecase;

import dev.secretsencrypt.apiserver.ApiserverIdentity;
import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.store.Membership;
import dev.secretsencrypt.store.ServerRegistry;
import java.time.Clock;
import java.util.Optional;

/**
 * This server in its cluster: its node name, the kube-apiserver its reports speak for, which cluster its data dir
 * belongs to, and the one rule that keeps two machines from reporting under one name.
 */
final class ThisServer {
    final String nodeName;
    final ApiserverIdentity apiserver;
    private final Membership membership;
    private final Optional<ClusterLink> cluster;
    private final Clock clock;

    ThisServer(String nodeName, ApiserverIdentity apiserver, Membership membership, Optional<ClusterLink> cluster,
               Clock clock) {
        this.nodeName = nodeName;
        this.apiserver = apiserver;
        this.membership = membership;
        this.cluster = cluster;
        this.clock = clock;
    }

    Optional<ClusterLink> cluster() {
        return cluster;
    }

    /**
     * In cluster mode, the cluster these endpoints lead to (its id read once), which the data dir records once enable
     * or sync succeeded; refused when the data dir belongs to another cluster.
     */
    Optional<Membership.Joined> ourCluster() {
        Optional<Membership.Joined> joined = cluster.map(ClusterLink::joined);
        joined.ifPresent(j -> membership.requireSameCluster(j.clusterId(), j.endpoints()));
        return joined;
    }

    /** Records in the data dir which cluster it belongs to, once a command there succeeded. */
    void join(Optional<Membership.Joined> joined) {
        joined.ifPresent(membership::join);
    }

    /**
     * Two machines reporting under one node name (cloned VMs share a host name) would defeat the restart check: one's
     * report would stand for the other's file. Each data dir has its own instance id, and a report from another is
     * refused until the old server is forgotten. Nothing to check in single-server mode.
     */
    void requireThisMachine() {
        cluster.ifPresent(c -> {
            String instanceId = membership.instanceId();
            ServerRegistry.ServerRecord last = c.registry().records().get(nodeName);
            if (last != null && !last.instanceId().equals(instanceId)) {
                throw new CommandRefused("another machine reports as " + nodeName + " (instance " + last.instanceId()
                        + ", last at " + last.reportedAt() + "; this data dir is instance " + instanceId + "): give each "
                        + "server its own --node-name (cloned VMs share a host name). If this machine replaced that one "
                        + "for good, run: secrets-encrypt nodes forget " + nodeName + "; nothing was changed");
            }
        });
    }

    /** Records who made this server's report, from what, for which kube-apiserver. */
    void recordReport(ServerRegistry.Source source, ServerRegistry.Reporter reporter, ApiserverIdentity by) {
        cluster.ifPresent(c -> c.registry().record(nodeName, new ServerRegistry.ServerRecord(membership.instanceId(),
                clock.instant(), source, reporter, Optional.of(by.leaseName()))));
    }
}
