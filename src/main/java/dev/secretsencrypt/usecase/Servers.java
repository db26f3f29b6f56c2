package dev.secretsencrypt.usecase;

import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.rotation.NodeReport;
import dev.secretsencrypt.rotation.RunningApiservers;
import dev.secretsencrypt.rotation.ServerHashes;
import dev.secretsencrypt.store.ClusterState;
import dev.secretsencrypt.store.ServerRegistry;
import dev.secretsencrypt.store.ServerReports;
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
    private final ServerReports reports;
    private final ServerRegistry registry;
    private final ServerGate gate;
    private final Clock clock;

    Servers(ClusterState state, ServerReports reports, ServerRegistry registry, ServerGate gate, Clock clock) {
        this.state = state;
        this.reports = reports;
        this.registry = registry;
        this.gate = gate;
        this.clock = clock;
    }

    /**
     * One server: its report, where the report came from, how old it is, whether it must reload the file, and the
     * identity lease of the kube-apiserver its report speaks for (absent in a report from before reports named it),
     * and what keeps its running agent from vouching for the report.
     */
    public record Server(NodeReport report, Optional<ServerRegistry.Source> source, Optional<Duration> age,
                         boolean mustReload, Optional<String> apiserver, Optional<String> agentProblem) {
        public String name() {
            return report.node();
        }

        /** Its agent stopped renewing it: it never counts as loaded. */
        public boolean stale() {
            return report.stale();
        }

        /** From a running agent reading its kube-apiserver: what the schedule needs of every server. */
        public boolean vouchedByItsApiserver() {
            return !stale() && source.filter(src -> src == ServerRegistry.Source.APISERVER).isPresent();
        }
    }

    public List<Server> list() {
        Snapshot current = CurrentState.of(state);
        List<NodeReport> now = reports.reports();
        ServerHashes hashes = ServerHashes.of(current.rotation().stage(), current.configHash(), now);
        Map<String, ServerRegistry.ServerRecord> records = registry.records();
        Map<String, ServerRegistry.RunningAgent> agents = registry.runningAgents();
        List<Server> out = new ArrayList<>();
        for (NodeReport r : now) {
            Optional<ServerRegistry.ServerRecord> record = Optional.ofNullable(records.get(r.node()));
            Optional<String> agentProblem = ServerGate.cannotVouch(agents.get(r.node()));
            out.add(new Server(r, record.map(ServerRegistry.ServerRecord::source),
                    record.map(x -> Duration.between(x.reportedAt(), clock.instant())),
                    hashes.behind(r) || agentProblem.isPresent(), record.flatMap(ServerRegistry.ServerRecord::apiserver),
                    agentProblem));
        }
        return out;
    }

    /** What else the checks see: kube-apiservers no server reports for, servers found with a retired writer. */
    public List<String> cautions() {
        return gate.cautions(CurrentState.of(state), reports.reports());
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
        apiserver.flatMap(gate::apiserverStillRunning).ifPresent(running -> {
            throw new CommandRefused("the kube-apiserver of " + name + " still runs: " + running + ". Stop "
                    + "kube-apiserver there first (it deletes its identity lease when it stops cleanly; one that was "
                    + "killed leaves it, and it counts as stopped once it was seen unchanged for "
                    + RunningApiservers.WATCHED_FOR.toSeconds() + " s), then run nodes forget again; nothing was changed");
        });
        if (!registry.forget(name)) {
            throw new CommandRefused("there is no server named " + name + " in " + state.describe() + ": nodes lists "
                    + "them; nothing was changed");
        }
        return "forgot " + name + ": its report no longer holds back rotate or reencrypt. If it is still running, its "
                + "next sync registers it again";
    }
}
