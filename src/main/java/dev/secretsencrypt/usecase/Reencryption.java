package dev.secretsencrypt.usecase;

import dev.secretsencrypt.failure.AlreadyRunning;
import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.reencrypt.Checkpoint;
import dev.secretsencrypt.reencrypt.Pass;
import dev.secretsencrypt.reencrypt.PassListener;
import dev.secretsencrypt.reencrypt.PassResult;
import dev.secretsencrypt.reencrypt.PassSettings;
import dev.secretsencrypt.reencrypt.ScanResult;
import dev.secretsencrypt.reencrypt.StoredValues;
import dev.secretsencrypt.reencrypt.Summary;
import dev.secretsencrypt.reencrypt.Target;
import dev.secretsencrypt.reencrypt.Targets;
import dev.secretsencrypt.rotation.Outcome;
import dev.secretsencrypt.rotation.Reencrypt;
import dev.secretsencrypt.rotation.ReportMatch;
import dev.secretsencrypt.rotation.Stage;
import dev.secretsencrypt.store.ClusterState;
import dev.secretsencrypt.store.EtcdPrefix;
import dev.secretsencrypt.store.Ownership;
import dev.secretsencrypt.store.PassOwnership;
import dev.secretsencrypt.store.RetiredKeysInUse;
import dev.secretsencrypt.store.RunRecords;
import dev.secretsencrypt.store.Snapshot;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * {@code reencrypt} and {@code verify}: rewrite every stored value under the active key directly in etcd, resumably
 * (a lease-held owner and a checkpoint), then retire the keys that a confirming scan finds no value under
 * ({@link KeyRetirement}).
 */
public final class Reencryption {
    /** At most 30 s, as the issue asks: a dead owner blocks a resume for no longer than this. */
    public static final Duration OWNER_LEASE = Duration.ofSeconds(20);

    /** What a pass needs of the datastore beyond the rotation state. */
    record Stores(PassOwnership owner, RunRecords runs, RetiredKeysInUse findings, StoredValues values) {
    }

    private final ClusterState state;
    private final Stores stores;
    private final ServerGate gate;
    private final LiveData live;
    private final KeyRetirement retirement;
    private final RunEnding ending;
    private final String nodeName;
    private final EtcdPrefix etcdPrefix;
    private final List<String> resources;
    private final PassListener progress;
    private final Consumer<String> notes;
    private final Clock clock;

    /** Built by {@link Session}, which refuses re-encryption where there is no datastore. */
    Reencryption(ClusterState state, Stores stores, ServerGate gate, LiveData live, KeyRetirement retirement,
                 String nodeName, EtcdPrefix etcdPrefix, List<String> resources, PassListener progress,
                 Consumer<String> notes, Clock clock) {
        this.state = state;
        this.stores = stores;
        this.gate = gate;
        this.live = live;
        this.retirement = retirement;
        this.ending = new RunEnding(state, stores.runs());
        this.nodeName = nodeName;
        this.etcdPrefix = etcdPrefix;
        this.resources = List.copyOf(resources);
        this.progress = progress;
        this.notes = notes;
        this.clock = clock;
    }

    public String reencrypt(ReencryptRequest request) throws Exception {
        boolean force = request.stageCheck() == ReencryptRequest.StageCheck.SKIPPED;
        boolean skip = request.keys() == ReencryptRequest.Keys.KEEP_ALL;
        Snapshot current = CurrentState.of(state);
        Stage stage = current.rotation().stage();
        if (stage == Stage.REENCRYPT_ACTIVE) {
            stores.owner().owner().ifPresent(owner -> {
                throw new AlreadyRunning(owner, OWNER_LEASE.toSeconds());
            });
        }
        boolean later = request.when() == ReencryptRequest.When.LATER;
        // read before the pass: a finding written after it started may be of values the pass already went past
        List<RetiredKeysInUse.Finding> found = stores.findings().findings();
        Reencrypt.RetiredWriterFound retiredWriter = found.isEmpty() ? Reencrypt.RetiredWriterFound.NO
                : Reencrypt.RetiredWriterFound.YES;
        Outcome outcome = later ? Reencrypt.requestReencrypt(current.rotation(), force, retiredWriter)
                : Reencrypt.startReencrypt(current.rotation(), force, retiredWriter);
        if (outcome instanceof Outcome.AlreadyDone done) {
            return done.summary();
        }
        Outcome.Changed next = RunEnding.changed(outcome);
        // -f skips the stage order only: values rewritten under a key a server lacks would be unreadable there
        gate.requireEveryServerOn(current, "reencrypt", ReportMatch.CONFIG);
        // every refusal comes before the first change: a refused reencrypt leaves the stage where it was
        List<Target> targets = targets(current);
        Pass pass = stores.values().pass(targets, PassSettings.defaults());
        live.require(LiveData.Renewal.OBSERVED);
        if (!later) {
            retirement.requireFileWritable(current);
        }
        RunRecord run = runToDo(current, skip);
        if (later) {
            Snapshot requested = ending.replace(current, next);
            stores.runs().saveRunRecord(run.toJson());
            return "re-encryption requested at revision " + requested.revision() + ": the leading agent carries it "
                    + "out, or run reencrypt on any server";
        }
        try (Ownership owner = stores.owner().claim(nodeName, OWNER_LEASE)) {
            // CAS against what the checks and the targets were computed from: a change since then refuses the run
            Snapshot active = ending.replace(current, next);
            return runOwned(active, run, owner, pass, targets, found);
        }
    }

    /** The run this command carries out: a resumable one from its checkpoint, else a new one. */
    private RunRecord runToDo(Snapshot current, boolean skip) {
        Stage stage = current.rotation().stage();
        boolean inProgress = stage == Stage.REENCRYPT_REQUEST || stage == Stage.REENCRYPT_ACTIVE;
        Optional<RunRecord> resumable = RunRecord.fromJson(stores.runs().runRecord())
                .filter(r -> inProgress && r.resumes(current.configHash()));
        return resumable.map(r -> r.withSkip(r.skip() || skip))
                .orElseGet(() -> new RunRecord(RunRecord.Status.REQUESTED, inProgress ? Stage.ROTATE : stage, skip,
                        nodeName, clock.instant(), null, Checkpoint.start(), Optional.of(current.configHash())));
    }

    /** The node whose re-encryption lease is live, if any: a running pass, or one killed less than a lease ago. */
    Optional<String> leaseHolder() {
        return stores.owner().owner();
    }

    /** rotate-keys asks before its first step: a wrong --etcd-prefix is refused before prepare, not after rotate. */
    void requireKubernetesDataPresent() {
        live.require(LiveData.Renewal.BY_TIME);
    }

    private String runOwned(Snapshot active, RunRecord run, Ownership owner, Pass pass, List<Target> passed,
                            List<RetiredKeysInUse.Finding> found) throws Exception {
        boolean resumed = run.checkpoint().done() > 0;
        RunRecord running = run.with(RunRecord.Status.RUNNING, run.checkpoint(), null).byNode(nodeName);
        PassResult result = runPass(pass, running, owner);
        Checkpoint done = result.checkpoint();
        Checkpoint before = run.checkpoint();
        // this run's own work and rate; what the interrupted run did is counted apart
        String summary = (resumed ? "resumed from its checkpoint; " : "") + Summary.of(
                done.rewritten() - before.rewritten(), done.unchanged() - before.unchanged(),
                done.failed() - before.failed(), result.elapsed())
                + (resumed ? "; " + before.done() + " values were done before the interruption" : "");
        Snapshot latest = state.read().orElseThrow();
        if (latest.revision() != active.revision()) {
            stores.runs().saveRunRecord(running.with(RunRecord.Status.FAILED, done, "the rotation state changed during "
                    + "the pass").toJson());
            throw new CommandRefused(summary + "\nno key retired: the rotation state changed during the pass (another "
                    + "secrets-encrypt command ran); run status, then reencrypt again");
        }
        if (done.failed() > 0) {
            throw ending.fail(latest, running, done, summary, unreadableMessage(done));
        }
        if (run.skip()) {
            ending.replace(latest, RunEnding.changed(Reencrypt.returnFromReencrypt(latest.rotation(), run.fromStage())));
            // a retired writer's finding stays: no confirming scan here, and a resumed pass skipped what came before
            stores.runs().saveRunRecord(running.with(RunRecord.Status.FINISHED, done, "--skip: no key removed").toJson());
            return summary + "\nno key removed (--skip); stage back to " + run.fromStage().text();
        }
        // whatever the flags: a server that has not loaded the rotated config may still write with a key about to go
        Optional<String> behind = gate.serversBehind(latest, ReportMatch.CONFIG);
        if (behind.isPresent()) {
            throw ending.fail(latest, running, done, summary, "no key retired: " + behind.get() + ", then run reencrypt "
                    + "again (-f does not skip this: retiring a key a server still uses makes its values unreadable; "
                    + "reencrypt -f --skip rewrites without retiring)");
        }
        return summary + "\n" + retirement.retire(latest, running, done, summary, passed, found);
    }

    /** The pass itself, its checkpoint saved after every page; Ctrl-C stops it cleanly at a saved checkpoint. */
    private PassResult runPass(Pass pass, RunRecord running, Ownership owner) throws Exception {
        stores.runs().saveRunRecord(running.toJson());
        AtomicReference<Checkpoint> last = new AtomicReference<>(running.checkpoint());
        AtomicBoolean stopping = new AtomicBoolean();
        Object saving = new Object(); // a stop waits for a checkpoint save in flight, and no save follows it
        Thread onInterrupt = new Thread(() -> {
            stopping.set(true);
            synchronized (saving) {
                stopped(running, last.get(), owner);
            }
        }, "reencrypt-interrupted");
        Runtime.getRuntime().addShutdownHook(onInterrupt);
        try {
            return pass.run(running.checkpoint(), c -> {
                if (owner.lost()) {
                    throw new CommandRefused("this node lost its re-encryption lease (the datastore did not confirm "
                            + "its renewal in time, or another node holds it now); the checkpoint is saved: run reencrypt again to resume");
                }
                synchronized (saving) {
                    if (stopping.get()) {
                        throw new CommandRefused("reencrypt was stopped; the checkpoint is saved: run it again to resume");
                    }
                    last.set(c);
                    stores.runs().saveRunRecord(running.with(RunRecord.Status.RUNNING, c, null).toJson());
                }
                progress.progress(c);
            });
        } finally {
            removeHook(onInterrupt);
        }
    }

    /**
     * Ctrl-C or a stop signal during the pass: the record says the run stopped and where, and the lease is revoked so
     * any server can resume at once instead of after the lease lapses. Best effort: the process is going away.
     */
    private void stopped(RunRecord running, Checkpoint at, Ownership owner) {
        try {
            stores.runs().saveRunRecord(running.with(RunRecord.Status.STOPPED, at, "interrupted at " + clock.instant())
                    .toJson());
            owner.close();
            notes.accept("reencrypt stopped " + stoppedAt(at) + "; the checkpoint is saved: run reencrypt again (on "
                    + "any server) to resume");
        } catch (RuntimeException e) {
            notes.accept("reencrypt stopped " + stoppedAt(at) + "; run reencrypt again to resume once its lease lapses ("
                    + OWNER_LEASE.toSeconds() + " s)");
        }
    }

    /**
     * Where the saved checkpoint is: values past it that were in flight may be rewritten already, and the resumed
     * pass counts them unchanged, so the words say "checkpoint at", not "values done".
     */
    static String stoppedAt(Checkpoint at) {
        return at.total() == 0 && at.done() == 0 ? "before its first checkpoint"
                : "with its checkpoint at " + at.done() + "/" + at.total() + " values (values past it already rewritten "
                + "count as unchanged when it resumes)";
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or ran: nothing to undo
        }
    }

    /** Counts stored values per key and lists the ones no configured or retired key can read. */
    public ScanResult verify() {
        Snapshot current = CurrentState.of(state);
        live.require(LiveData.Renewal.BY_TIME);
        return stores.values().scan(targets(current), PassSettings.defaults(), n -> {
            try {
                progress.progress(Checkpoint.counted(n));
            } catch (Exception e) {
                throw new IllegalStateException("a progress listener failed", e);
            }
        });
    }

    private List<Target> targets(Snapshot s) {
        return Targets.resolve(s.rotation().config(), etcdPrefix, resources, KeyRetirement.retiredReaders(s));
    }

    private static String unreadableMessage(Checkpoint c) {
        List<String> listed = c.unreadable().stream().limit(KeyRetirement.LISTED_UNREADABLE).toList();
        long others = c.failed() - c.unreadable().size();
        return c.failed() + " stored value(s) were left untouched and no key was retired"
                + (listed.isEmpty() ? "" : "; no configured or retired key can read these:\n  " + String.join("\n  ", listed))
                + (c.unreadable().size() > listed.size() ? "\n  … (" + (c.unreadable().size() - listed.size())
                + " more; verify lists them)" : "")
                + (others > 0 ? "\n" + others + " value(s) kept changing or grew too large for etcd (warnings above)" : "")
                + "\n" + KeyRetirement.WHAT_TO_DO;
    }
}
