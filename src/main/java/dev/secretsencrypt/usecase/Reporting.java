package dev.secretsencrypt.usecase;

import dev.secretsencrypt.apiserver.ApiserverIdentity;
import dev.secretsencrypt.config.ConfigHash;
import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.failure.StateUnavailable;
import dev.secretsencrypt.rotation.NodeReport;
import dev.secretsencrypt.store.ClusterState;
import dev.secretsencrypt.store.Membership;
import dev.secretsencrypt.store.ServerRegistry;
import dev.secretsencrypt.store.ServerReports;
import dev.secretsencrypt.store.Snapshot;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What this server reports it loaded: by {@code sync} (the file, at kube-apiserver's start) or by the agent (what its
 * kube-apiserver says it loaded), each report naming the apiserver it speaks for.
 */
public final class Reporting {
    private final ClusterState state;
    private final ServerReports reports;
    private final NodeFile file;
    private final ThisServer server;

    Reporting(ClusterState state, ServerReports reports, NodeFile file, ThisServer server) {
        this.state = state;
        this.reports = reports;
        this.file = file;
        this.server = server;
    }

    /** What sync did: the file, whether it was written, what it replaced (a retired writer), and the report. */
    public record SyncResult(Path file, boolean written, Optional<String> retiredWriter, String node,
                             Reported reported) {
    }

    /** What became of sync's report. */
    public sealed interface Reported {
        /** Stored: this server is in every check with it. */
        record Stored(NodeReport report) implements Reported {
        }

        /** Left to this server's running agent, which reads what kube-apiserver loaded, with what keeps it from it. */
        record LeftToAgent(Optional<String> agentProblem) implements Reported {
        }

        /** The file is right, the report could not be stored (etcd takes no writes): the older report holds. */
        record NotStored(NodeReport report, String why) implements Reported {
        }
    }

    /**
     * Writes this node's file from the state when it differs, then reports what the file now holds. Refused when the
     * file holds a key the cluster does not know, unless {@code force}: values written with it would become unreadable.
     */
    public SyncResult sync(boolean force) {
        Snapshot current = CurrentState.of(state);
        Optional<Membership.Joined> joined = server.ourCluster();
        server.requireThisMachine();
        boolean agentReports = agentReadsTheApiserver();
        NodeFile.Written w = agentReports ? file.write(current, force, replaced -> withdraw(current, replaced))
                : file.write(current, force);
        NodeReport report = new NodeReport(server.nodeName, current.rotation().stage(), file.hash());
        if (agentReports) {
            // its report says what kube-apiserver serves with; a file report over it would claim a reload not seen
            server.join(joined);
            return result(w, new Reported.LeftToAgent(server.cluster().flatMap(c -> ServerGate.cannotVouch(
                    c.registry().runningAgents().get(server.nodeName)))));
        }
        try {
            reports.report(report);
        } catch (StateUnavailable cannotReport) {
            if (!registered()) {
                // a server etcd does not know is in no safety check: it must register before its apiserver starts
                throw new CommandRefused((w.written() ? "wrote " : "already up to date: ") + file.path() + ", but could "
                        + "not register " + server.nodeName + " in the cluster state (" + cannotReport.getMessage()
                        + "). A server the cluster does not know of is left out of every check before a key is made "
                        + "active or retired, so kube-apiserver must not start with this file yet: free etcd's space "
                        + "(compact, defrag, disarm the NOSPACE alarm), then run sync again");
            }
            // as ExecStartPre, failing here would keep kube-apiserver down although its file is right (etcd NOSPACE)
            return result(w, new Reported.NotStored(report, cannotReport.getMessage()));
        }
        // the report speaks for this host's kube-apiserver: the one that loads this file at its start
        server.recordReport(ServerRegistry.Source.FILE, ServerRegistry.Reporter.SYNC, server.apiserver);
        server.join(joined);
        return result(w, new Reported.Stored(report));
    }

    private SyncResult result(NodeFile.Written w, Reported reported) {
        return new SyncResult(file.path(), w.written(), w.retiredWriter(), server.nodeName, reported);
    }

    private boolean registered() {
        return reports.reports().stream().anyMatch(r -> r.node().equals(server.nodeName));
    }

    /**
     * An agent that reads what this server's kube-apiserver loaded is running here, and the server is registered:
     * then the report is the agent's to make, even before its first answer (a sync's file report would claim a load
     * nobody saw). A server with no report at all is registered by sync, so it is never left out of the checks.
     */
    private boolean agentReadsTheApiserver() {
        return server.cluster().map(c -> c.registry().runningAgents().get(server.nodeName))
                .filter(agent -> agent.reads() == ServerRegistry.Source.APISERVER).isPresent() && registered();
    }

    /** Refused when another machine reports under this node's name (see sync); nothing to check in single-server mode. */
    public void requireThisMachine() {
        server.requireThisMachine();
    }

    /**
     * This node's file as the agent left it: the state it follows, whether it was just written, its digest, and what
     * to say loudly when the file it replaced had a retired key as its writer.
     */
    public record FileState(Snapshot state, boolean written, ConfigHash hash, Optional<String> retiredWriter) {
    }

    /**
     * The agent's half of sync: writes this node's file from the state when it differs, and reports nothing (what the
     * apiserver loaded is asked separately). Refused, as sync is, when the file holds a key the cluster lacks.
     */
    public FileState keepFileCurrent() {
        Snapshot current = CurrentState.of(state);
        server.ourCluster();
        NodeFile.Written w = registered() ? file.write(current, false, replaced -> withdraw(current, replaced))
                : file.write(current, false);
        return new FileState(current, w.written(), file.hash(), w.retiredWriter());
    }

    /**
     * Before a file its kube-apiserver may have reloaded is replaced, this server's report says that file: a report
     * of the config it replaces must not let a key retire (or a retired writer's pass end) while that apiserver writes
     * with the replaced file's writer. The agent's next answer from kube-apiserver puts the report right.
     */
    private void withdraw(Snapshot current, ConfigHash replaced) {
        reports.report(new NodeReport(server.nodeName, current.rotation().stage(), replaced));
    }

    /**
     * The agent's report: this server's kube-apiserver {@code by} loaded the config of digest {@code loaded}
     * while the state was {@code at}, as it says itself. Its agent's lease keeps it alive; once that lapses it reads as
     * stale, never loaded.
     */
    public void reportByAgent(Snapshot at, ConfigHash loaded, ApiserverIdentity by) {
        if (server.cluster().isEmpty()) {
            throw new CommandRefused("the agent reports to a cluster: set endpoints");
        }
        Optional<Membership.Joined> joined = server.ourCluster();
        server.requireThisMachine();
        reports.report(new NodeReport(server.nodeName, at.rotation().stage(), loaded));
        server.recordReport(ServerRegistry.Source.APISERVER, ServerRegistry.Reporter.AGENT, by);
        server.join(joined);
    }
}
