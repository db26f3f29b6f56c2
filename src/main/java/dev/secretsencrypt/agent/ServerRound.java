package dev.secretsencrypt.agent;

import dev.secretsencrypt.agent.Problems.Kind;
import dev.secretsencrypt.apiserver.ApiserverConfigProbe;
import dev.secretsencrypt.apiserver.LoadedConfig;
import dev.secretsencrypt.config.ConfigHash;
import dev.secretsencrypt.failure.OperatorError;
import dev.secretsencrypt.failure.StateUnavailable;
import dev.secretsencrypt.rotation.AgentReport;
import dev.secretsencrypt.rotation.NodeReport;
import dev.secretsencrypt.store.ServerRegistry;
import dev.secretsencrypt.store.Snapshot;
import dev.secretsencrypt.usecase.Reporting;
import dev.secretsencrypt.usecase.Servers;
import dev.secretsencrypt.usecase.Session;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * One round for this server: its report lease, its file, what its own kube-apiserver says it loaded, its report, the
 * metrics of every server. An answer counts only from this server's own kube-apiserver; once another one answered at
 * {@code --apiserver-url} (a load balancer, another server's address), none from there counts until a restart.
 */
final class ServerRound {
    private final Session session;
    private final Session.AgentLinks links;
    private final String nodeName;
    private final Path configFile;
    private final AgentSettings settings;
    private final AgentLog log;
    private final AgentMetrics metrics;
    private final Problems problems;

    private volatile ServerRegistry.ReportLease lease;
    private Optional<ConfigHash> lastLoaded = Optional.empty();
    /** The file's digest once its apiserver was seen serving with it: after that, another answer is a regression. */
    private Optional<ConfigHash> seenOnFile = Optional.empty();
    private Optional<String> published = Optional.empty();
    private Optional<String> foreignAnswer = Optional.empty();
    private Optional<NodeReport> lastReported = Optional.empty();
    private boolean reportedOnce;
    /** Whether the apiserver has yet to load the file, or cannot be asked: then it is asked again soon. */
    private boolean loading = true;

    ServerRound(Session session, Session.AgentLinks links, String nodeName, Path configFile, AgentSettings settings,
                AgentLog log, AgentMetrics metrics, Problems problems) {
        this.session = session;
        this.links = links;
        this.nodeName = nodeName;
        this.configFile = configFile;
        this.settings = settings;
        this.log = log;
        this.metrics = metrics;
        this.problems = problems;
    }

    /** The report lease, while one is held: its loss is a health problem before the next round says so. */
    Optional<ServerRegistry.ReportLease> lease() {
        return Optional.ofNullable(lease);
    }

    /** Returns true while the apiserver has not loaded the file yet (probe again soon). */
    boolean run() {
        try {
            // an agent under another machine's name must never hold that server's report alive, nor revoke it
            session.reporting().requireThisMachine();
            List<Servers.Server> servers = session.servers().list();
            Optional<Servers.Server> mine = servers.stream().filter(x -> x.name().equals(nodeName)).findFirst();
            keepLease(mine);
            Reporting.FileState file = session.reporting().keepFileCurrent();
            if (file.written()) {
                // a file replaced here may be what the apiserver serves now: its next answer is judged afresh
                seenOnFile = Optional.empty();
                lastReported = Optional.empty(); // the report this round replaced was this agent's own (see withdraw)
                log.info("wrote " + configFile + " for stage " + file.state().rotation().stage().text() + " (config "
                        + file.hash().shortForm() + ")");
            }
            file.retiredWriter().ifPresent(log::error);
            problems.clear(Kind.FILE);
            // unhealthy until a pass rewrote what a retired key may have written here (the leader runs one)
            session.gate().retiredWriterFound(nodeName).ifPresentOrElse(f -> problems.set(Kind.RETIRED_KEY, f),
                    () -> problems.clear(Kind.RETIRED_KEY));
            metrics.stage(file.state().rotation().stage());
            metrics.lastRotation(LeaderRound.lastRotation(file.state()));
            boolean reported = report(file, mine);
            // the list read at the start of the round stands, unless this round changed this server's report
            metrics.servers(reported ? session.servers().list() : servers);
            problems.clear(Kind.ETCD);
            publishProblems();
            return loading;
        } catch (OperatorError e) {
            Kind kind = e instanceof StateUnavailable ? Kind.ETCD : Kind.FILE;
            problems.set(kind, e.getMessage());
            problems.say(kind, e.getMessage());
            return true;
        }
    }

    /** The lease lapsed, or its key was removed (nodes forget) while the lease lives on: take a new one. */
    private void keepLease(Optional<Servers.Server> mine) {
        ServerRegistry.ReportLease held = lease;
        boolean keyGone = held != null && reportedOnce && (mine.isEmpty() || mine.get().stale());
        if (held != null && !held.lost() && !keyGone) {
            return;
        }
        if (held != null) {
            held.close();
            problems.say(Kind.LEASE, "the report lease of " + nodeName + (keyGone ? " was removed" : " lapsed ("
                    + held.datastore() + " unreachable?)") + "; taking a new one");
        }
        lease = links.keepReportsAlive().apply(settings.timing().reportLease());
        published = Optional.empty(); // a new lease key: what keeps this agent from reporting is said again
    }

    /** Revokes the report lease: this server's report is stale from now on (nothing vouches for its apiserver). */
    void release() {
        ServerRegistry.ReportLease held = lease;
        if (held != null) {
            held.close();
        }
    }

    /** Reports what this server's apiserver loaded; true when it wrote the report. */
    private boolean report(Reporting.FileState file, Optional<Servers.Server> stored) {
        if (settings.probe().isEmpty()) {
            // A file written is not a file loaded: claiming it would let a key retire while this apiserver still
            // writes with it. Without the apiserver's metrics the report stays sync's, made when kube-apiserver started.
            if (stored.isEmpty()) {
                String unregistered = nodeName + " has no report, so it is in no check before a key is made active or "
                        + "retired: run sync here before kube-apiserver starts with " + configFile + " (the sync "
                        + "drop-in does), or give this agent --apiserver-url";
                problems.set(Kind.REPORT, unregistered);
                problems.say(Kind.REPORT, unregistered);
            } else {
                problems.clear(Kind.REPORT);
            }
            loading = false; // nothing to wait for: this agent never sees a load
            return false;
        }
        ApiserverConfigProbe probe = settings.probe().get();
        Optional<String> cannot = judge(probe, probe.probe(), file);
        loading = cannot.isPresent() || !lastLoaded.equals(Optional.of(file.hash()));
        if (cannot.isPresent()) {
            problems.set(Kind.APISERVER, cannot.get());
            problems.say(Kind.APISERVER, "cannot tell what kube-apiserver loaded: " + cannot.get());
            return false;
        }
        problems.clear(Kind.APISERVER);
        // what this agent knows its own apiserver serves with; a report saying more (a sync by hand) is put right
        return lastLoaded.isPresent() && reportUnlessStored(file.state(), lastLoaded.get(), stored, probe);
    }

    /** Takes what the probe said into what this agent knows; empty when it counts, else why it does not. */
    private Optional<String> judge(ApiserverConfigProbe probe, LoadedConfig loaded, Reporting.FileState file) {
        metrics.apiserverAnswers(loaded instanceof LoadedConfig.Loaded);
        if (foreignAnswer.isPresent()) {
            // an address where other apiservers answer too may answer for this one only by chance: none counts
            return foreignAnswer;
        }
        if (loaded instanceof LoadedConfig.Unknown u) {
            return Optional.of(unknown(u));
        }
        ConfigHash hash = ((LoadedConfig.Loaded) loaded).hash();
        if (seenOnFile.filter(file.hash()::equals).isPresent() && !hash.equals(file.hash())) {
            // kube-apiserver reloads only when the file's content changes, and starts on the file as it is
            return Optional.of(probe.describe() + " answered with config " + hash.shortForm() + " after it had "
                    + "served with this server's file (" + file.hash().shortForm() + "), which has not "
                    + "changed: another kube-apiserver with the same identity answered (a load balancer over servers "
                    + "that share a host name?), so no answer from it counts. Give --apiserver-url this server's own "
                    + "apiserver, and give each server its own host name");
        }
        lastLoaded = Optional.of(hash);
        if (hash.equals(file.hash())) {
            seenOnFile = Optional.of(hash);
        } else {
            problems.say(Kind.APISERVER, "kube-apiserver has not loaded " + configFile + " (config "
                    + file.hash().shortForm() + ") yet: it serves with " + hash.shortForm() + " (automatic "
                    + "reload checks the file about once a minute; else restart it)");
        }
        return Optional.empty();
    }

    /** Why an answer cannot count, naming the apiserver that answered instead when its identity lease is known. */
    private String unknown(LoadedConfig.Unknown u) {
        if (u.answeredBy().isEmpty()) {
            return u.why();
        }
        String why = u.why() + session.gate().apiserverWithIdHash(u.answeredBy().get())
                .map(other -> ": that is the kube-apiserver on " + other + ", so --apiserver-url reaches another "
                        + "server's apiserver, or a load balancer in front of several; give this server's own (its "
                        + "--bind-address and --secure-port)")
                .orElse(": --apiserver-url reaches another server's apiserver, or a load balancer in front of several; "
                        + "give this server's own (its --bind-address and --secure-port), or --apiserver-hostname if this "
                        + "server's kube-apiserver runs under another host name")
                + "; no answer from that address counts for this server until the agent is restarted with the right one";
        foreignAnswer = Optional.of(why);
        return why;
    }

    /** Tells the other servers (rotate-keys, nodes) what keeps this agent from reporting, when that changes. */
    private void publishProblems() {
        Optional<String> now = problems.keepingItFromReporting();
        if (now.equals(published) || lease == null) {
            return;
        }
        lease.tell(now);
        published = now;
    }

    /** True when it wrote the report ({@link AgentReport#mustWrite}). */
    private boolean reportUnlessStored(Snapshot at, ConfigHash loaded, Optional<Servers.Server> stored,
                                       ApiserverConfigProbe probe) {
        NodeReport wanted = new NodeReport(nodeName, at.rotation().stage(), loaded);
        Optional<AgentReport.Stored> seen = stored.map(s -> new AgentReport.Stored(s.report(),
                s.source().filter(src -> src == ServerRegistry.Source.APISERVER).isPresent(), s.apiserver()));
        if (!AgentReport.mustWrite(seen, wanted, probe.expected().leaseName(), reportedOnce)) {
            return false;
        }
        session.reporting().reportByAgent(at, loaded, probe.expected());
        reportedOnce = true;
        problems.forget(Kind.APISERVER);
        boolean replaced = lastReported.equals(Optional.of(wanted)) && seen.isPresent();
        lastReported = Optional.of(wanted);
        log.info((replaced ? "put back the report " : "reported ") + nodeName + " " + at.rotation().stage().text() + "-"
                + loaded.shortForm() + " (from kube-apiserver: last_config_info of " + probe.expected() + ")"
                + (replaced ? ", which something else (a sync by hand, nodes forget) had replaced" : "")
                + (loaded.equals(at.configHash()) ? "" : "; that is not the cluster's current config "
                + at.configHash().shortForm() + " yet"));
        return true;
    }
}
