package dev.secretsencrypt.usecase;

import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.rotation.NodeReport;
import dev.secretsencrypt.rotation.RunningApiservers;
import dev.secretsencrypt.rotation.ServerHashes;
import dev.secretsencrypt.store.ClusterState;
import dev.secretsencrypt.store.ServerRegistry;
import dev.secretsencrypt.store.Snapshot;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@code nodes}: the servers of the cluster, their reports and whether each must reload; and removing one for good. */
public final class Servers {
    private final ClusterState state;
    private final ServerRegistry registry;
    private final ServerNode node;
    private final Clock clock;

    <T extends ClusterState & ServerRegistry> Servers(T store, ServerNode node, Clock clock) {
        this.state = store;
        this.registry = store;
        this.node = node;
        this.clock = clock;
    }

    /**
     * One server: its report, where the report came from, how old it is, whether it must reload the file, and the
     * identity lease of the kube-apiserver its report speaks for (absent in a report from before reports named it).
     */
    public record Server(String name, String report, Optional<ServerRegistry.Source> source, Optional<Duration> age,
                         boolean stale, boolean mustReload, Optional<String> apiserver) {
    }

    public List<Server> list() {
        Snapshot current = state.read().orElseThrow(() -> ServerNode.noRotationState(state));
        List<NodeReport> reports = state.reports();
        ServerHashes hashes = ServerHashes.of(current.rotation().stage(), current.configHash(), reports);
        Map<String, ServerRegistry.ServerRecord> records = registry.records();
        List<Server> out = new ArrayList<>();
        for (NodeReport r : reports) {
            Optional<ServerRegistry.ServerRecord> record = Optional.ofNullable(records.get(r.node()));
            out.add(new Server(r.node(), r.value(), record.map(ServerRegistry.ServerRecord::source),
                    record.map(x -> Duration.between(x.reportedAt(), clock.instant())), r.stale(), hashes.behind(r),
                    record.flatMap(ServerRegistry.ServerRecord::apiserver)));
        }
        return out;
    }

    /**
     * Removes a decommissioned server from every check. A server that is still running registers again at its next
     * sync, so only forget one that is gone for good: while forgotten, nothing waits for it to reload.
     */
    public String forget(String name) {
        if (registry.runningAgents().containsKey(name)) {
            // forgotten while its agent runs, a server would be in no check until the agent's next round
            throw new CommandRefused("the agent on " + name + " is running (it keeps its report alive): stop it there "
                    + "first (systemctl disable --now secrets-encrypt-agent), or wait until nodes shows it stale; "
                    + "nothing was changed");
        }
        // forgotten while its kube-apiserver runs, that apiserver would write in no check at all
        Optional<String> apiserver = Optional.ofNullable(registry.records().get(name))
                .flatMap(ServerRegistry.ServerRecord::apiserver);
        apiserver.flatMap(node::apiserverStillRunning).ifPresent(running -> {
            throw new CommandRefused("the kube-apiserver of " + name + " still runs: " + running + ". Stop "
                    + "kube-apiserver there first (it deletes its identity lease when it stops cleanly; the lease of one "
                    + "that was killed counts as running for " + RunningApiservers.RUNNING_WITHIN.toSeconds()
                    + " s), then run nodes forget again; nothing was changed");
        });
        if (!registry.forget(name)) {
            throw new CommandRefused("there is no server named " + name + " in " + state.describe() + ": nodes lists "
                    + "them; nothing was changed");
        }
        return "forgot " + name + ": its report no longer holds back rotate or reencrypt. If it is still running, its "
                + "next sync registers it again";
    }
}
