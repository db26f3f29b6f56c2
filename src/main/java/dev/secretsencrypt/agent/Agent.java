package dev.secretsencrypt.agent;

import dev.secretsencrypt.agent.Problems.Kind;
import dev.secretsencrypt.certs.ExpirationMetrics;
import dev.secretsencrypt.certs.PkiFiles;
import dev.secretsencrypt.store.ServerRegistry;
import dev.secretsencrypt.store.StateWatch;
import dev.secretsencrypt.usecase.CertificateCheck;
import dev.secretsencrypt.usecase.Session;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * {@code secrets-encrypt agent}: on every server, keeps this node's file in line with the cluster state (an etcd
 * watch), reports what this server's own kube-apiserver loaded ({@link ServerRound}) under a lease that makes the
 * report stale when the agent goes, and, on the one agent that leads, acts on the state ({@link LeaderRound}). This
 * class holds the threads and their lifecycle only.
 */
public final class Agent implements AutoCloseable {
    private final Session session;
    private final String nodeName;
    private final Path configFile;
    private final AgentSettings settings;
    private final AgentLog log;
    private final AgentMetrics metrics = new AgentMetrics();
    private final Problems problems;
    private final ServerRound server;
    private final LeaderRound leader;
    private final StateWatch watch;
    private final Clock clock;

    private final Semaphore nodeWake = new Semaphore(0);
    private final CountDownLatch stopped = new CountDownLatch(1);
    private volatile boolean running = true;
    private volatile Thread nodeThread;
    private volatile Thread leaderThread;

    public Agent(Session session, AgentSettings settings, AgentLog log) {
        this.session = session;
        this.nodeName = session.settings().nodeName();
        this.configFile = session.settings().configFile();
        Clock clock = session.clock();
        this.settings = settings;
        this.log = log;
        this.clock = clock;
        this.problems = new Problems(log);
        Session.AgentLinks links = session.agentLinks(settings.probe().isPresent() ? ServerRegistry.Source.APISERVER
                : ServerRegistry.Source.FILE);
        this.server = new ServerRound(session, links, nodeName, configFile, settings, log, metrics, problems);
        this.leader = new LeaderRound(session, links, nodeName, settings, log, metrics, problems, clock);
        this.watch = links.watch();
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
        AutoCloseable watching = watch.onChange(() -> {
            nodeWake.release();
            leader.wake();
        });
        leaderThread = new Thread(leader::run, "agent-leader");
        leaderThread.start();
        log.info(started(http));
        try {
            loop();
        } catch (InterruptedException stopping) {
            // close() interrupts the wait: fall through to the clean-up
        } finally {
            stop(watching, http);
        }
    }

    private String started(Optional<AgentHttp> http) {
        return "agent started on " + nodeName + ": keeps " + configFile + " in line with " + session.describeState()
                + settings.probe().map(p -> "; reports what " + p.describe() + " loaded")
                .orElse("; reports nothing (no --apiserver-url, so it cannot see what kube-apiserver loaded): after "
                        + "each change restart kube-apiserver here, whose sync (ExecStartPre) reports the file")
                + settings.rotateEvery().map(d -> "; rotates every " + AgentSettings.text(d)).orElse("")
                + http.map(h -> "; metrics on http://" + h.address().getHostString() + ":" + h.address().getPort()
                + "/metrics").orElse("");
    }

    private void loop() throws InterruptedException {
        Instant certificatesDue = Instant.MIN;
        while (running) {
            boolean loading = server.run();
            if (!clock.instant().isBefore(certificatesDue)) {
                refreshCertificates();
                certificatesDue = clock.instant().plus(settings.timing().certificatesEvery());
            }
            Duration next = loading ? settings.timing().probeWhileLoading() : settings.timing().probeWhenLoaded();
            if (nodeWake.tryAcquire(next.toMillis(), TimeUnit.MILLISECONDS)) {
                nodeWake.drainPermits();
            }
        }
    }

    /** The way out: each step said if it fails, and the steps after it still run. */
    private void stop(AutoCloseable watching, Optional<AgentHttp> http) {
        // close()'s interrupt may still be pending (a round ended by it): it would cut the join and the revoke
        boolean interrupted = Thread.interrupted();
        try {
            stopping("stop watching etcd", () -> {
                try {
                    watching.close();
                } catch (Exception ignored) {
                    // closing on the way out: nothing left to tell
                }
            });
            http.ifPresent(h -> stopping("stop serving /metrics", h::close));
            leader.stop();
            Thread t = leaderThread;
            if (t != null) {
                t.interrupt();
                try {
                    t.join(TimeUnit.SECONDS.toMillis(10));
                } catch (InterruptedException again) {
                    interrupted = true; // stopping anyway: the report lease is still revoked below
                }
            }
            // this server's report is stale from now on: nothing vouches for its apiserver
            stopping("revoke the report lease (the report turns stale when it expires)", server::release);
            log.info("agent stopped on " + nodeName);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Stops the loops and waits briefly for them; the report goes stale at once (its lease is revoked). */
    @Override
    public void close() {
        running = false;
        leader.stop();
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
        Optional<String> lapsing = server.lease().filter(ServerRegistry.ReportLease::lost).map(l -> l.datastore()
                + " has not confirmed the report lease of " + nodeName + " in time (" + l.datastore() + " unreachable?): "
                + "its report turns stale");
        return problems.all(lapsing);
    }

    private void refreshCertificates() {
        try {
            CertificateCheck.Report report = CertificateCheck.run(PkiFiles.knownDirectories(Path.of("/")),
                    CertificateCheck.DEFAULT_WARN, clock.instant(), Optional.empty());
            metrics.certificates(ExpirationMetrics.render(report.records()));
        } catch (PkiFiles.MissingPath | RuntimeException e) {
            problems.say(Kind.CERTIFICATES, "cannot read this server's certificates: " + e.getMessage());
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
}
