package dev.secretsencrypt.usecase;

import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.rotation.NodeReport;
import dev.secretsencrypt.rotation.ReportMatch;
import dev.secretsencrypt.rotation.ServersOnConfig;
import dev.secretsencrypt.store.ClusterState;
import dev.secretsencrypt.store.RetiredKeysInUse;
import dev.secretsencrypt.store.ServerRegistry;
import dev.secretsencrypt.store.ServerReports;
import dev.secretsencrypt.store.Snapshot;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The inputs of the every-server gate ({@link ServersOnConfig}) as the datastore holds them now: the reports, the
 * running agents and what keeps them from reporting, the kube-apiservers that renew an identity lease, the servers
 * found with a retired writer. Every step that makes a key the writer or retires one asks here.
 */
public final class ServerGate {
    private final ClusterState state;
    private final ServerReports reports;
    private final Optional<ClusterLink> cluster;
    private final Clock clock;

    ServerGate(ClusterState state, ServerReports reports, Optional<ClusterLink> cluster, Clock clock) {
        this.state = state;
        this.reports = reports;
        this.cluster = cluster;
        this.clock = clock;
    }

    /** Refused while the gate is closed for the current config; no flag opens it. */
    void requireEveryServerOn(Snapshot current, String command, ReportMatch match) {
        serversOn(current, match).refusal(command).ifPresent(refusal -> {
            throw new CommandRefused(refusal);
        });
    }

    /** Which servers have not loaded the current config, in a sentence; empty when every registered one has. */
    Optional<String> serversBehind(Snapshot current, ReportMatch match) {
        return serversOn(current, match).behindSentence();
    }

    ServersOnConfig serversOn(Snapshot current, ReportMatch match) {
        Map<String, ServerRegistry.RunningAgent> agents = cluster.map(c -> c.registry().runningAgents()).orElse(Map.of());
        List<NodeReport> now = reports.reports();
        List<ServersOnConfig.Server> servers = now.stream().map(r -> new ServersOnConfig.Server(r,
                Optional.ofNullable(agents.get(r.node())).map(a -> new ServersOnConfig.Agent(
                        a.reads() == ServerRegistry.Source.APISERVER, a.problem())))).toList();
        Optional<String> unaccounted = cluster.flatMap(c -> noKubernetesData(c)
                .or(() -> c.leases().check(current, now, IdentityLeases.Wait.WATCH).problem()));
        return ServersOnConfig.of(current.rotation().stage(), current.configHash(), match, servers, unaccounted);
    }

    /** What keeps a running agent that reads its kube-apiserver from vouching for the report it keeps alive. */
    static Optional<String> cannotVouch(ServerRegistry.RunningAgent agent) {
        return Optional.ofNullable(agent).filter(a -> a.reads() == ServerRegistry.Source.APISERVER)
                .flatMap(ServerRegistry.RunningAgent::problem);
    }

    /**
     * Without kube-apiserver's data under --etcd-prefix, no identity lease shows which kube-apiservers run: a wrong
     * prefix would let a key become the writer past one that lacks it.
     */
    private static Optional<String> noKubernetesData(ClusterLink c) {
        String namespaces = c.etcdPrefix().under("namespaces");
        if (c.data().count(namespaces) > 0) {
            return Optional.empty();
        }
        return Optional.of("there is no kube-apiserver data under " + c.etcdPrefix() + " (no " + namespaces + "), so "
                + "which kube-apiservers run cannot be seen: check --etcd-prefix (kube-apiserver's --etcd-prefix, default "
                + "/registry; etcd-prefix in /etc/secrets-encrypt/config.yaml) and --endpoints");
    }

    /** The registered servers whose report says what their file holds, not what their kube-apiserver loaded. */
    List<String> serversReportingTheFileOnly() {
        Map<String, ServerRegistry.ServerRecord> records = cluster.map(c -> c.registry().records()).orElse(Map.of());
        return reports.reports().stream().map(NodeReport::node).filter(n -> Optional.ofNullable(records.get(n))
                .map(r -> r.source() != ServerRegistry.Source.APISERVER).orElse(true)).toList();
    }

    /** The kube-apiserver of this identity lease, in words, while its lease says it runs. */
    Optional<String> apiserverStillRunning(String leaseName) {
        Optional<Snapshot> current = state.read();
        return cluster.flatMap(c -> current.flatMap(s -> c.leases().running(s, leaseName)))
                .map(a -> "its identity lease " + a.leaseName() + " (host " + a.host() + ") is still renewed"
                        + a.renewedAt().map(t -> " (last stamped " + Math.max(0, Duration.between(t, clock.instant())
                        .toSeconds()) + " s ago by its clock)").orElse(""));
    }

    /** The kube-apiserver whose metrics carry {@code idHash}, in words (its host and identity lease), if it is known. */
    public Optional<String> apiserverWithIdHash(String idHash) {
        Optional<Snapshot> current = state.read();
        return cluster.flatMap(c -> current.flatMap(s -> c.leases().byIdHash(s, idHash)))
                .map(a -> a.host() + " (identity lease " + a.leaseName() + ")");
    }

    /** Whether a server was found with a retired key as its writer since the last clean pass: one is due. */
    public boolean retiredWriterAnywhere() {
        return cluster.map(c -> !c.findings().findings().isEmpty()).orElse(false);
    }

    /** {@code node}'s finding of a retired key as its file's writer, in words, until a clean pass has run since. */
    public Optional<String> retiredWriterFound(String node) {
        return cluster.flatMap(c -> c.findings().findings().stream().filter(f -> f.node().equals(node)).findFirst())
                .map(RetiredWriter::caution);
    }

    /**
     * What keeps "All hashes match" from being true although every report agrees: a server found with a retired key
     * as its writer (its apiserver may have written values only that key reads), or a kube-apiserver that runs
     * unaccounted for.
     */
    List<String> cautions(Snapshot stored, List<NodeReport> now) {
        if (cluster.isEmpty()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (RetiredKeysInUse.Finding f : cluster.get().findings().findings()) {
            out.add(RetiredWriter.caution(f));
        }
        cluster.get().registry().runningAgents().forEach((node, agent) -> cannotVouch(agent).ifPresent(why ->
                out.add("the agent on " + node + " cannot vouch for its report, so it does not count as loaded: " + why)));
        // status must answer at once: a lease no server claims is judged by its renew time here, not watched
        cluster.get().leases().check(stored, now, IdentityLeases.Wait.NO_WAIT).problem().ifPresent(out::add);
        return out;
    }
}
