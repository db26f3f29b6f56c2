package dev.secretsencrypt.agent;

import dev.secretsencrypt.apiserver.ApiserverConfigProbe;
import dev.secretsencrypt.apiserver.ApiserverIdentity;
import dev.secretsencrypt.apiserver.LoadedConfig;
import dev.secretsencrypt.certs.ExpirationMetrics;
import dev.secretsencrypt.certs.Inspection;
import dev.secretsencrypt.certs.PkiFiles;
import dev.secretsencrypt.failure.AlreadyRunning;
import dev.secretsencrypt.failure.OperatorError;
import dev.secretsencrypt.rotation.Stage;
import dev.secretsencrypt.store.Ownership;
import dev.secretsencrypt.store.RetiredKey;
import dev.secretsencrypt.store.ServerRegistry;
import dev.secretsencrypt.store.Snapshot;
import dev.secretsencrypt.usecase.ReencryptRequest;
import dev.secretsencrypt.usecase.Reencryption;
import dev.secretsencrypt.usecase.RotateKeys;
import dev.secretsencrypt.usecase.ServerNode;
import dev.secretsencrypt.usecase.Servers;
import dev.secretsencrypt.usecase.Session;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code secrets-encrypt agent}: on every server, keeps this node's file in line with the cluster state (an etcd
 * watch), reports what this server's kube-apiserver loaded (read from its own metrics; without them it reports
 * nothing, leaving the report to sync at the apiserver's restart) under a lease that makes the report stale when the
 * agent goes, and, on the one agent that leads, carries out requested
 * re-encryptions, resumes one whose runner died, and runs the rotation schedule. The loop and scheduling only: every
 * change goes through the same use cases as the commands, with their refusals.
 */
public final class Agent implements AutoCloseable {
    private final Session session;
    private final Session.AgentLinks links;
    private final ServerNode node;
    private final String nodeName;
    private final Path configFile;
    private final AgentSettings settings;
    private final AgentSettings.Timing timing;
    private final AgentLog log;
    private final AgentMetrics metrics = new AgentMetrics();
    private final Clock clock;
    private final Instant started;

    private final Semaphore nodeWake = new Semaphore(0);
    private final Semaphore leaderWake = new Semaphore(0);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Map<String, String> problems = new ConcurrentHashMap<>();
    private final Map<String, String> lastSaid = new ConcurrentHashMap<>();
    private volatile boolean running = true;
    private volatile Thread nodeThread;
    private volatile Thread leaderThread;
    private volatile ServerRegistry.ReportLease reportLease;
    private volatile Optional<String> lastLoaded = Optional.empty();
    /** The file's digest once its apiserver was seen serving with it: after that, another answer is a regression. */
    private volatile Optional<String> seenOnFile = Optional.empty();
    private volatile Optional<String> published = Optional.empty();
    /** Once another kube-apiserver answered at --apiserver-url, it is a load balancer or another server's: why, kept. */
    private volatile Optional<String> foreignAnswer = Optional.empty();
    private volatile String lastReported = "";
    private volatile boolean reportedOnce;
    private volatile Instant lastLeaderFailure = Instant.MIN;
    private volatile long lastFailedRevision = -1;
    private volatile Optional<Long> lastPassRevision = Optional.empty();

    public Agent(Session session, String nodeName, Path configFile, AgentSettings settings, AgentLog log, Clock clock) {
        this.session = session;
        this.links = session.agentLinks(settings.probe().isPresent() ? ServerRegistry.Source.APISERVER
                : ServerRegistry.Source.FILE);
        this.node = session.node();
        this.nodeName = nodeName;
        this.configFile = configFile;
        this.settings = settings;
        this.timing = settings.timing();
        this.log = log;
        this.clock = clock;
        this.started = clock.instant();
    }

    /** Runs until {@link #close()} (SIGTERM); the caller's thread keeps this server's file and report. */
    public void run() throws IOException, InterruptedException {
        nodeThread = Thread.currentThread();
        try {
            runUntilClosed();
        } catch (IOException | RuntimeException | Error e) {
            log.error("agent stopped on " + nodeName + " by a failure: " + e); // the journal says why it ended
            throw e;
        } finally {
            stopped.countDown(); // also when it failed to start (its metrics port taken): close() waits no longer
        }
    }

    private void runUntilClosed() throws IOException {
        Optional<AgentHttp> http = Optional.empty();
        if (settings.metricsAddress().isPresent()) {
            http = Optional.of(AgentHttp.start(settings.metricsAddress().get(), metrics, this::health));
        }
        AutoCloseable watch = links.watch().onChange(() -> {
            nodeWake.release();
            leaderWake.release();
        });
        leaderThread = new Thread(this::leadWhenElected, "agent-leader");
        leaderThread.start();
        log.info("agent started on " + nodeName + ": keeps " + configFile + " in line with " + node.describeState()
                + settings.probe().map(p -> "; reports what " + p.describe() + " loaded")
                .orElse("; reports nothing (no --apiserver-url, so it cannot see what kube-apiserver loaded): after "
                        + "each change restart kube-apiserver here, whose sync (ExecStartPre) reports the file")
                + settings.rotateEvery().map(d -> "; rotates every " + durationText(d)).orElse("")
                + http.map(h -> "; metrics on http://" + h.address().getHostString() + ":" + h.address().getPort()
                        + "/metrics").orElse(""));
        Instant certificatesDue = Instant.MIN;
        try {
            while (running) {
                boolean loading = keepThisServer();
                if (!clock.instant().isBefore(certificatesDue)) {
                    refreshCertificates();
                    certificatesDue = clock.instant().plus(timing.certificatesEvery());
                }
                Duration next = loading ? timing.probeWhileLoading() : timing.probeWhenLoaded();
                if (nodeWake.tryAcquire(next.toMillis(), TimeUnit.MILLISECONDS)) {
                    nodeWake.drainPermits();
                }
            }
        } catch (InterruptedException stopping) {
            // close() interrupts the wait: fall through to the clean-up
        } finally {
            // close()'s interrupt may still be pending (a round ended by it): it would cut the join and the revoke
            boolean interrupted = Thread.interrupted();
            try {
                closeQuietly(watch);
                http.ifPresent(h -> stopping("stop serving /metrics", h::close));
                Thread leader = leaderThread;
                if (leader != null) {
                    leader.interrupt();
                    try {
                        leader.join(TimeUnit.SECONDS.toMillis(10));
                    } catch (InterruptedException again) {
                        interrupted = true; // stopping anyway: the report lease is still revoked below
                    }
                }
                ServerRegistry.ReportLease lease = reportLease;
                if (lease != null) {
                    // this server's report is stale from now on: nothing vouches for its apiserver
                    stopping("revoke the report lease (the report turns stale when it expires)", lease::close);
                }
                log.info("agent stopped on " + nodeName);
            } finally {
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** Stops the loops and waits briefly for them; the report goes stale at once (its lease is revoked). */
    @Override
    public void close() {
        running = false;
        Thread t = nodeThread;
        if (t != null && t != Thread.currentThread()) {
            t.interrupt();
            // not a join: once run() returns, that thread goes on to System.exit, which blocks while this hook runs
            try {
                stopped.await(15, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Empty while healthy; else what is wrong, for /healthz. */
    Optional<String> health() {
        // a round stuck in etcd's retries (up to ~50 s) has not said so yet; the lease says it within its TTL
        ServerRegistry.ReportLease lease = reportLease;
        Optional<String> lapsing = lease != null && lease.lost() ? Optional.of("etcd has not confirmed the report "
                + "lease of " + nodeName + " in time (etcd unreachable?): its report turns stale") : Optional.empty();
        return Stream.concat(lapsing.stream(), problems.values().stream().sorted())
                .reduce((a, b) -> a + "; " + b);
    }

    /**
     * One round for this server: the report lease, the file, the report, the metrics. Returns true while the
     * apiserver has not loaded the file yet (probe again soon).
     */
    private boolean keepThisServer() {
        try {
            // an agent under another machine's name must never hold that server's report alive, nor revoke it
            node.requireThisMachine();
            List<Servers.Server> servers = session.servers().list();
            Optional<Servers.Server> mine = servers.stream().filter(x -> x.name().equals(nodeName)).findFirst();
            ServerRegistry.ReportLease lease = reportLease;
            // the lease lapsed, or its key was removed (nodes forget) while the lease lives on: take a new one
            boolean keyGone = lease != null && reportedOnce && (mine.isEmpty() || mine.get().stale());
            if (lease == null || lease.lost() || keyGone) {
                if (lease != null) {
                    lease.close();
                    say("lease", "the report lease of " + nodeName + (keyGone ? " was removed" : " lapsed (etcd "
                            + "unreachable?)") + "; taking a new one");
                }
                reportLease = links.keepReportsAlive().apply(timing.reportLease());
                published = Optional.empty(); // a new lease key: what keeps this agent from reporting is said again
            }
            ServerNode.NodeFile file = node.keepFileCurrent();
            if (file.written()) {
                log.info("wrote " + configFile + " for stage " + file.state().rotation().stage().text() + " (config "
                        + shortHash(file.sha256Hex()) + ")");
            }
            file.retiredWriter().ifPresent(found -> log.error(found));
            problems.remove("file");
            // unhealthy until a pass rewrote what a retired key may have written here (the leader runs one)
            node.retiredWriterFound().ifPresentOrElse(f -> problems.put("retired-key", f),
                    () -> problems.remove("retired-key"));
            metrics.stage(file.state().rotation().stage());
            metrics.lastRotation(lastRotation(file.state()));
            Round round = report(file, mine);
            // the list read at the start of the round stands, unless this round changed this server's report
            metrics.servers(round.reported() ? session.servers().list() : servers);
            problems.remove("etcd");
            publishProblems();
            return round.loading();
        } catch (OperatorError e) {
            String key = e instanceof dev.secretsencrypt.failure.StateUnavailable ? "etcd" : "file";
            problems.put(key, e.getMessage());
            say(key, e.getMessage());
            return true;
        }
    }

    /** How a round's report went: whether the apiserver still lags behind the file, and whether a report was made. */
    private record Round(boolean loading, boolean reported) {
    }

    /**
     * Reports what this server's apiserver loaded, and puts it back whenever the stored report is not that (a sync by
     * hand, a forget, a lapsed lease).
     */
    private Round report(ServerNode.NodeFile file, Optional<Servers.Server> stored) {
        Snapshot at = file.state();
        if (settings.probe().isEmpty()) {
            // A file written is not a file loaded: claiming it would let a key retire while this apiserver still
            // writes with it. Without the apiserver's metrics the report stays sync's, made when kube-apiserver started.
            if (stored.isEmpty()) {
                String unregistered = nodeName + " has no report, so it is in no check before a key is made active or "
                        + "retired: run sync here before kube-apiserver starts with " + configFile + " (the sync "
                        + "drop-in does), or give this agent --apiserver-url";
                problems.put("report", unregistered);
                say("report", unregistered);
            } else {
                problems.remove("report");
            }
            return new Round(false, false);
        }
        ApiserverConfigProbe probe = settings.probe().get();
        LoadedConfig loaded = probe.probe();
        metrics.apiserverAnswers(loaded instanceof LoadedConfig.Loaded);
        boolean loading = true;
        if (foreignAnswer.isPresent()) {
            // an address where other apiservers answer too may answer for this one only by chance: none counts
            problems.put("apiserver", foreignAnswer.get());
            return new Round(true, false);
        }
        if (loaded instanceof LoadedConfig.Loaded l && regressed(l, file)) {
            // kube-apiserver reloads only when the file's content changes, and starts on the file as it is
            String why = probe.describe() + " answered with config " + shortHash(l.hash().sha256Hex()) + " after it had "
                    + "served with this server's file (" + shortHash(file.sha256Hex()) + "), which has not changed: "
                    + "another kube-apiserver with the same identity answered (a load balancer over servers that share "
                    + "a host name?), so no answer from it counts. Give --apiserver-url this server's own apiserver, "
                    + "and give each server its own host name";
            problems.put("apiserver", why);
            say("apiserver", "cannot tell what kube-apiserver loaded: " + why);
            return new Round(true, false);
        } else if (loaded instanceof LoadedConfig.Loaded l) {
            problems.remove("apiserver");
            lastLoaded = Optional.of(l.hash().sha256Hex());
            loading = !l.hash().sha256Hex().equals(file.sha256Hex());
            if (loading) {
                say("apiserver", "kube-apiserver has not loaded " + configFile + " (config " + shortHash(file.sha256Hex())
                        + ") yet: it serves with " + shortHash(l.hash().sha256Hex()) + " (automatic reload checks the "
                        + "file about once a minute; else restart it)");
            } else {
                seenOnFile = Optional.of(file.sha256Hex());
            }
        } else {
            LoadedConfig.Unknown u = (LoadedConfig.Unknown) loaded;
            String why = u.why() + u.answeredBy().flatMap(idHash -> node.apiserverWithIdHash(idHash))
                    .map(other -> ": that is the kube-apiserver on " + other + ", so --apiserver-url reaches another "
                            + "server's apiserver, or a load balancer in front of several; give this server's own "
                            + "(its --bind-address and --secure-port)")
                    .orElse(u.answeredBy().isPresent() ? ": --apiserver-url reaches another server's apiserver, or a "
                            + "load balancer in front of several; give this server's own (its --bind-address and "
                            + "--secure-port), or --apiserver-hostname if this server's kube-apiserver runs under "
                            + "another host name" : "");
            if (u.answeredBy().isPresent()) {
                why = why + "; no answer from that address counts for this server until the agent is restarted with "
                        + "the right one";
                foreignAnswer = Optional.of(why);
            }
            problems.put("apiserver", why);
            say("apiserver", "cannot tell what kube-apiserver loaded: " + why);
            if (foreignAnswer.isPresent()) {
                return new Round(true, false);
            }
        }
        // what this agent knows its own apiserver serves with; a report saying more (a sync by hand) is put right
        boolean reported = lastLoaded.isPresent() && reportUnlessStored(at, lastLoaded.get(), stored, probe.expected());
        return new Round(loading, reported);
    }

    /** An answer of another config after the apiserver was seen on this very file, which has not changed since. */
    private boolean regressed(LoadedConfig.Loaded l, ServerNode.NodeFile file) {
        return seenOnFile.filter(f -> f.equals(file.sha256Hex())).isPresent()
                && !l.hash().sha256Hex().equals(file.sha256Hex());
    }

    /** Tells the other servers (rotate-keys, nodes) what keeps this agent from reporting, when that changes. */
    private void publishProblems() {
        Optional<String> now = Stream.of(problems.get("apiserver"), problems.get("report")).filter(java.util.Objects::nonNull)
                .reduce((a, b) -> a + "; " + b);
        if (now.equals(published) || reportLease == null) {
            return;
        }
        reportLease.tell(now);
        published = now;
    }

    /**
     * True when it wrote the report: it was not stored as this agent's, of this stage and digest, for this server's
     * own kube-apiserver.
     */
    private boolean reportUnlessStored(Snapshot at, String loadedSha256, Optional<Servers.Server> stored,
                                       ApiserverIdentity by) {
        String value = at.rotation().stage().text() + "-" + loadedSha256;
        boolean current = stored.filter(x -> x.report().equals(value) && !x.stale()
                && x.source().filter(src -> src == ServerRegistry.Source.APISERVER).isPresent()
                && x.apiserver().filter(by.leaseName()::equals).isPresent()).isPresent()
                && reportedOnce;
        if (current) {
            return false;
        }
        node.reportByAgent(at, loadedSha256, by);
        reportedOnce = true;
        lastSaid.remove("apiserver");
        boolean replaced = stored.filter(x -> !x.report().equals(value) || x.source()
                .filter(src -> src == ServerRegistry.Source.APISERVER).isEmpty()).isPresent()
                && lastReported.equals(value);
        lastReported = value;
        log.info((replaced ? "put back the report " : "reported ") + nodeName + " " + at.rotation().stage().text() + "-"
                + shortHash(loadedSha256) + " (from kube-apiserver: last_config_info of " + by + ")"
                + (replaced ? ", which something else (a sync by hand, nodes forget) had replaced" : "")
                + (loadedSha256.equals(at.configHash()) ? "" : "; that is not the cluster's current config "
                + shortHash(at.configHash()) + " yet"));
        return true;
    }

    /** The leader's loop: stand, and while leading, act on each state change (and every few seconds). */
    private void leadWhenElected() {
        while (running) {
            try {
                Optional<Ownership> term = links.leadership().campaign(nodeName, timing.leaderRecheck().multipliedBy(3));
                if (term.isEmpty()) {
                    continue;
                }
                try (Ownership t = term.get()) {
                    metrics.leader(true);
                    log.info(nodeName + " leads the agents: it carries out requested re-encryptions"
                            + (settings.rotateEvery().isPresent() ? " and the rotation schedule" : ""));
                    while (running && !t.lost()) {
                        lead();
                        if (leaderWake.tryAcquire(timing.leaderRecheck().toMillis(), TimeUnit.MILLISECONDS)) {
                            leaderWake.drainPermits();
                        }
                    }
                } finally {
                    metrics.leader(false);
                    if (running) {
                        log.warning(nodeName + " no longer leads the agents (its lease lapsed); standing again");
                    }
                }
            } catch (InterruptedException stopping) {
                return;
            } catch (OperatorError e) {
                say("leader", "cannot stand for agent leader: " + e.getMessage());
                sleepQuietly(timing.leaderRecheck());
            } catch (RuntimeException bug) {
                log.error("leader loop failed: " + bug);
                sleepQuietly(timing.retryAfterFailure());
            }
        }
    }

    /** What the leader does at one look at the state. */
    private void lead() throws InterruptedException {
        Snapshot s;
        try {
            s = node.current();
        } catch (OperatorError e) {
            say("leader", e.getMessage());
            return;
        }
        // a step that failed at this revision is tried again after a pause, not in a tight loop
        if (s.revision() == lastFailedRevision
                && clock.instant().isBefore(lastLeaderFailure.plus(timing.retryAfterFailure()))) {
            return;
        }
        Stage stage = s.rotation().stage();
        try {
            switch (stage) {
                case REENCRYPT_REQUEST -> {
                    once("leader-action", "carrying out the requested re-encryption (stage reencrypt_request)");
                    reencrypt(s);
                }
                case REENCRYPT_ACTIVE -> {
                    Optional<String> owner = links.runs().owner();
                    if (owner.isEmpty()) {
                        once("leader-action", "resuming the re-encryption whose runner is gone (stage reencrypt_active, "
                                + "no owner)");
                        reencrypt(s);
                    }
                }
                case START, REENCRYPT_FINISHED -> {
                    if (node.retiredWriterAnywhere()) {
                        // values a retired key wrote are read by no kube-apiserver: rewrite them before anything else
                        once("leader-action", "re-encrypting: a server was found with a retired key as its writer "
                                + "(status names it)");
                        reencrypt(s);
                    } else if (scheduleDue(s)) {
                        rotate("the schedule is due (every " + durationText(settings.rotateEvery().get()) + ")");
                    } else {
                        scanAfterPass(s);
                    }
                }
                case PREPARE, ROTATE -> {
                    if (settings.rotateEvery().isPresent()) {
                        rotate("a rotation is under way at stage " + stage.text());
                    }
                }
            }
            lastSaid.remove("leader");
        } catch (AlreadyRunning other) {
            say("leader", other.getMessage());
        } catch (OperatorError e) {
            lastFailedRevision = revisionNow(s);
            lastLeaderFailure = clock.instant();
            say("leader-refused", "leader: " + e.getMessage() + " (tried again after each state change and every "
                    + durationText(timing.retryAfterFailure()) + "; said again only when it changes)");
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            lastFailedRevision = revisionNow(s);
            lastLeaderFailure = clock.instant();
            log.error("leader: " + e);
        }
    }

    /** The state's revision after a failed step (a rotate-keys that timed out had moved it on); else the one before. */
    private long revisionNow(Snapshot before) {
        try {
            return node.current().revision();
        } catch (OperatorError unreachable) {
            return before.revision();
        }
    }

    private void reencrypt(Snapshot s) throws Exception {
        Reencryption run = session.reencryption(List.of(), metrics::pass);
        String summary = run.reencrypt(ReencryptRequest.now());
        lastSaid.remove("leader-action");
        lastSaid.remove("leader-refused");
        log.info("re-encryption done: " + summary);
        scanAfterPass(node.current());
    }

    /** Values per key after each finished rotation, once per state revision: a full read, so not on every look. */
    private void scanAfterPass(Snapshot s) {
        if (lastPassRevision.filter(r -> r == s.revision()).isPresent()) {
            return;
        }
        lastPassRevision = Optional.of(s.revision());
        try {
            Map<String, Long> counts = session.reencryption(List.of(), c -> { }).verify().countsByEnvelope();
            metrics.valuesByEnvelope(counts);
        } catch (OperatorError e) {
            say("scan", "cannot count the stored values by key: " + e.getMessage());
        }
    }

    private void rotate(String why) throws Exception {
        log.info("rotating the keys: " + why);
        RotateKeys.Settings waits = new RotateKeys.Settings(settings.waitTimeout(), timing.probeWhileLoading(),
                Optional.empty());
        String done = session.rotateKeys(waits, metrics::pass, line -> log.info("rotate-keys: " + line)).run();
        log.info(done);
        scanAfterPass(node.current());
    }

    /**
     * Due once the last rotation (the newest retired key; else this agent's start) is {@code rotateEvery} old, and
     * only when every server's report comes from its apiserver: a file report cannot tell a scheduled rotation that
     * kube-apiserver reloaded, and nobody is there to restart it.
     */
    private boolean scheduleDue(Snapshot s) {
        if (settings.rotateEvery().isEmpty()) {
            return false;
        }
        Instant last = lastRotation(s).orElse(started);
        if (clock.instant().isBefore(last.plus(settings.rotateEvery().get()))) {
            return false;
        }
        List<Servers.Server> servers = session.servers().list();
        List<String> notApiserver = servers.stream().filter(x -> x.stale()
                || x.source().filter(src -> src == ServerRegistry.Source.APISERVER).isEmpty()).map(Servers.Server::name)
                .toList();
        if (servers.isEmpty() || !notApiserver.isEmpty()) {
            say("schedule", "the scheduled rotation is due but waits: " + (servers.isEmpty() ? "no server reported yet"
                    : String.join(", ", notApiserver) + " report(s) not from a running agent with --apiserver-url")
                    + "; a scheduled rotation needs every server's agent to read its kube-apiserver's metrics");
            return false;
        }
        lastSaid.remove("schedule");
        return true;
    }

    private static Optional<Instant> lastRotation(Snapshot s) {
        return s.retiredKeys().stream().map(RetiredKey::retiredAt).max(Instant::compareTo);
    }

    private void refreshCertificates() {
        try {
            PkiFiles.Found files = PkiFiles.scan(PkiFiles.knownDirectories(Path.of("/")));
            metrics.certificates(ExpirationMetrics.render(new Inspection(clock.instant(), Duration.ofDays(30),
                    files.authorities()).inspect(files.sources())));
        } catch (PkiFiles.MissingPath | RuntimeException e) {
            say("certificates", "cannot read this server's certificates: " + e.getMessage());
        }
    }

    /** Logs a condition once, and again only when its text changes: a lasting problem is not a line every 2 s. */
    private void say(String about, String message) {
        if (!message.equals(lastSaid.put(about, message))) {
            log.warning(message);
        }
    }

    /** The same for an action tried again after a refusal: logged when first tried, not at every retry. */
    private void once(String about, String message) {
        if (!message.equals(lastSaid.put(about, message))) {
            log.info(message);
        }
    }

    private static String durationText(Duration d) {
        long s = d.toSeconds();
        return s % 86_400 == 0 ? s / 86_400 + "d" : s % 3600 == 0 ? s / 3600 + "h" : s % 60 == 0 ? s / 60 + "m" : s + "s";
    }

    private static String shortHash(String sha256Hex) {
        return sha256Hex.substring(0, Math.min(12, sha256Hex.length()));
    }

    private void sleepQuietly(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            running = false;
        }
    }

    /** One step of the way out: a failure is said, and the steps after it still run. */
    private void stopping(String step, Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            log.warning("while stopping, could not " + step + ": " + e);
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // closing on the way out: nothing left to tell
        }
    }
}
