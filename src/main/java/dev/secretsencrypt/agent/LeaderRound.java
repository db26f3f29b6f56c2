package dev.secretsencrypt.agent;

import dev.secretsencrypt.agent.Problems.Kind;
import dev.secretsencrypt.failure.AlreadyRunning;
import dev.secretsencrypt.failure.OperatorError;
import dev.secretsencrypt.rotation.LeaderAction;
import dev.secretsencrypt.rotation.RetiredKey;
import dev.secretsencrypt.rotation.Schedule;
import dev.secretsencrypt.store.Ownership;
import dev.secretsencrypt.store.Snapshot;
import dev.secretsencrypt.usecase.ReencryptRequest;
import dev.secretsencrypt.usecase.RotateKeys;
import dev.secretsencrypt.usecase.Servers;
import dev.secretsencrypt.usecase.Session;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The agent that leads (etcd's election): at each state change and every few seconds it decides what to do
 * ({@link LeaderAction}) and does it through the same use cases as the commands, with their refusals. A step that
 * failed is tried again after a pause, not in a tight loop.
 */
final class LeaderRound {
    private final Session session;
    private final Session.AgentLinks links;
    private final String nodeName;
    private final AgentSettings settings;
    private final AgentLog log;
    private final AgentMetrics metrics;
    private final Problems problems;
    private final Clock clock;
    private final Instant started;
    private final Semaphore wake = new Semaphore(0);

    private volatile boolean running = true;
    private Instant lastFailure = Instant.MIN;
    private long failedAtRevision = -1;
    private Optional<Long> countedAtRevision = Optional.empty();

    LeaderRound(Session session, Session.AgentLinks links, String nodeName, AgentSettings settings, AgentLog log,
                AgentMetrics metrics, Problems problems, Clock clock) {
        this.session = session;
        this.links = links;
        this.nodeName = nodeName;
        this.settings = settings;
        this.log = log;
        this.metrics = metrics;
        this.problems = problems;
        this.clock = clock;
        this.started = clock.instant();
    }

    /** Something under the tool's prefix changed: look again now. */
    void wake() {
        wake.release();
    }

    void stop() {
        running = false;
    }

    /** Stands for leader, and while leading acts on each state change; until {@link #stop()} or an interrupt. */
    void run() {
        while (running) {
            try {
                Optional<Ownership> term = links.leadership().campaign(nodeName,
                        settings.timing().leaderRecheck().multipliedBy(3));
                if (term.isPresent()) {
                    lead(term.get());
                }
            } catch (InterruptedException stopping) {
                return;
            } catch (OperatorError e) {
                String why = e.getMessage();
                // the store's own refusals already say what they could not do
                problems.say(Kind.LEADER, why.startsWith("cannot stand for agent leader") ? why
                        : "cannot stand for agent leader: " + why);
                pause(settings.timing().leaderRecheck());
            } catch (RuntimeException bug) {
                log.error("leader loop failed: " + bug);
                pause(settings.timing().retryAfterFailure());
            }
        }
    }

    private void lead(Ownership term) throws InterruptedException {
        try (term) {
            metrics.leader(() -> !term.lost());
            log.info(nodeName + " leads the agents: it carries out requested re-encryptions"
                    + (settings.rotateEvery().isPresent() ? " and the rotation schedule" : ""));
            while (running && !term.lost()) {
                look();
                if (wake.tryAcquire(settings.timing().leaderRecheck().toMillis(), TimeUnit.MILLISECONDS)) {
                    wake.drainPermits();
                }
            }
        } finally {
            metrics.leader(() -> false);
            if (running) {
                log.warning(nodeName + " no longer leads the agents (its lease lapsed); standing again");
            }
        }
    }

    /** One look at the state: decide, then act. */
    private void look() throws InterruptedException {
        Snapshot s;
        try {
            s = session.current();
        } catch (OperatorError e) {
            problems.say(Kind.LEADER, e.getMessage());
            return;
        }
        if (s.revision() == failedAtRevision
                && clock.instant().isBefore(lastFailure.plus(settings.timing().retryAfterFailure()))) {
            return;
        }
        try {
            act(s, decide(s));
            problems.forget(Kind.LEADER);
        } catch (AlreadyRunning other) {
            problems.say(Kind.LEADER, other.getMessage());
        } catch (OperatorError e) {
            failed(s);
            problems.say(Kind.LEADER_REFUSED, "leader: " + e.getMessage() + " (tried again after each state change and "
                    + "every " + AgentSettings.text(settings.timing().retryAfterFailure()) + "; said again only when it "
                    + "changes)");
        } catch (InterruptedException e) {
            throw e;
        } catch (Exception e) {
            failed(s);
            log.error("leader: " + e);
        }
    }

    private LeaderAction decide(Snapshot s) {
        boolean scheduled = settings.rotateEvery().isPresent();
        return LeaderAction.decide(s.rotation().stage(), links.owner().owner().isPresent(),
                session.gate().retiredWriterAnywhere(), scheduled, scheduled && scheduleDue(s));
    }

    private void act(Snapshot s, LeaderAction action) throws Exception {
        switch (action) {
            case CARRY_OUT_REQUEST -> {
                problems.once(Kind.LEADER_ACTION, "carrying out the requested re-encryption (stage reencrypt_request)");
                reencrypt();
            }
            case RESUME_ORPHANED_RUN -> {
                problems.once(Kind.LEADER_ACTION, "resuming the re-encryption whose runner is gone (stage "
                        + "reencrypt_active, no owner)");
                reencrypt();
            }
            case REWRITE_RETIRED_WRITERS -> {
                problems.once(Kind.LEADER_ACTION, "re-encrypting: a server was found with a retired key as its writer "
                        + "(status names it)");
                reencrypt();
            }
            case ROTATE_ON_SCHEDULE -> rotate("the schedule is due (every "
                    + AgentSettings.text(settings.rotateEvery().orElseThrow()) + ")");
            case FINISH_ROTATION -> rotate("a rotation is under way at stage " + s.rotation().stage().text());
            case COUNT_VALUES -> countValues(s);
            case NOTHING -> {
            }
        }
    }

    /** A failed step is tried again at the state's revision after it (a rotate-keys that timed out moved it on). */
    private void failed(Snapshot before) {
        try {
            failedAtRevision = session.current().revision();
        } catch (OperatorError unreachable) {
            failedAtRevision = before.revision();
        }
        lastFailure = clock.instant();
    }

    private void reencrypt() throws Exception {
        String summary = session.reencryption(List.of(), metrics::pass).reencrypt(ReencryptRequest.now());
        problems.forget(Kind.LEADER_ACTION);
        problems.forget(Kind.LEADER_REFUSED);
        log.info("re-encryption done: " + summary);
        countValues(session.current());
    }

    /** Values per key after each finished rotation, once per state revision: a full read, so not on every look. */
    private void countValues(Snapshot s) {
        if (countedAtRevision.filter(r -> r == s.revision()).isPresent()) {
            return;
        }
        countedAtRevision = Optional.of(s.revision());
        try {
            Map<String, Long> counts = session.reencryption(List.of(), c -> { }).verify().countsByEnvelope();
            metrics.valuesByEnvelope(counts);
        } catch (OperatorError e) {
            problems.say(Kind.SCAN, "cannot count the stored values by key: " + e.getMessage());
        }
    }

    private void rotate(String why) throws Exception {
        log.info("rotating the keys: " + why);
        RotateKeys.Settings waits = new RotateKeys.Settings(settings.waitTimeout(),
                settings.timing().probeWhileLoading(), Optional.empty());
        log.info(session.rotateKeys(waits, metrics::pass, line -> log.info("rotate-keys: " + line)).run());
        countValues(session.current());
    }

    /** {@link Schedule}: due, and every server's report from a running agent reading its apiserver. */
    private boolean scheduleDue(Snapshot s) {
        Schedule schedule = new Schedule(settings.rotateEvery());
        if (schedule.dueAt(lastRotation(s), started).filter(due -> !clock.instant().isBefore(due)).isEmpty()) {
            return false; // not due: the servers are not listed at every look
        }
        List<Servers.Server> servers = session.servers().list();
        Schedule.Check check = schedule.check(lastRotation(s), started, clock.instant(),
                servers.stream().map(Servers.Server::name).toList(),
                servers.stream().filter(x -> !x.vouchedByItsApiserver()).map(Servers.Server::name).toList());
        if (check instanceof Schedule.Check.Waits waits) {
            problems.say(Kind.SCHEDULE, waits.why());
            return false;
        }
        problems.forget(Kind.SCHEDULE);
        return check instanceof Schedule.Check.Due;
    }

    static Optional<Instant> lastRotation(Snapshot s) {
        return s.retiredKeys().stream().map(RetiredKey::retiredAt).max(Instant::compareTo);
    }

    private void pause(java.time.Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            running = false;
        }
    }
}
