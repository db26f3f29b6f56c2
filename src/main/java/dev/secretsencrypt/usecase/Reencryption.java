package dev.secretsencrypt.usecase;

import dev.secretsencrypt.config.EncryptionConfig;
import dev.secretsencrypt.failure.AlreadyRunning;
import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.reencrypt.ApiserverLeases;
import dev.secretsencrypt.reencrypt.Checkpoint;
import dev.secretsencrypt.reencrypt.Pass;
import dev.secretsencrypt.reencrypt.PassListener;
import dev.secretsencrypt.reencrypt.PassResult;
import dev.secretsencrypt.reencrypt.PassSettings;
import dev.secretsencrypt.reencrypt.ReadOnlyKey;
import dev.secretsencrypt.reencrypt.ScanResult;
import dev.secretsencrypt.reencrypt.StoredValues;
import dev.secretsencrypt.reencrypt.Summary;
import dev.secretsencrypt.reencrypt.Target;
import dev.secretsencrypt.reencrypt.Targets;
import dev.secretsencrypt.rotation.KeyUsage;
import dev.secretsencrypt.rotation.Outcome;
import dev.secretsencrypt.rotation.ReportMatch;
import dev.secretsencrypt.rotation.Retirement;
import dev.secretsencrypt.rotation.Rotation;
import dev.secretsencrypt.rotation.RotationState;
import dev.secretsencrypt.rotation.Stage;
import dev.secretsencrypt.store.ClusterState;
import dev.secretsencrypt.store.EtcdPrefix;
import dev.secretsencrypt.store.Ownership;
import dev.secretsencrypt.store.ReencryptionStore;
import dev.secretsencrypt.store.RetiredKey;
import dev.secretsencrypt.store.RetiredKeysInUse;
import dev.secretsencrypt.config.KeyRef;
import java.util.Map;
import dev.secretsencrypt.store.Snapshot;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * {@code reencrypt} and {@code verify}: rewrite every stored value under the active key directly in etcd, resumably
 * (a lease-held owner and a checkpoint), then retire the keys that a confirming scan finds no value under.
 */
public final class Reencryption {
    /** At most 30 s, as the issue asks: a dead owner blocks a resume for no longer than this. */
    public static final Duration OWNER_LEASE = Duration.ofSeconds(20);
    private static final int LISTED_UNREADABLE = 20;
    private static final int MAX_LEASES = 1000; // one per apiserver; far more than any control plane runs
    private static final String WHAT_TO_DO = "Restore the key that wrote them (a value a KMS plugin encrypted needs that "
            + "plugin: rewrite it through the API server); delete an object only if it is garbage; then run reencrypt again.";

    private final ServerNode node;
    private final ClusterState state;
    private final ReencryptionStore store;
    private final RetiredKeysInUse findings;
    private final StoredValues values;
    private final String nodeName;
    private final EtcdPrefix etcdPrefix;
    private final List<String> resources;
    private final PassListener progress;
    private final Consumer<String> notes;
    private final Clock clock;

    /** Built by {@link Session}, which refuses re-encryption where there is no datastore. */
    Reencryption(ServerNode node, ClusterState state, ReencryptionStore store, RetiredKeysInUse findings,
                 StoredValues values, String nodeName,
                 EtcdPrefix etcdPrefix, List<String> resources, PassListener progress, Consumer<String> notes,
                 Clock clock) {
        this.node = node;
        this.state = state;
        this.store = store;
        this.findings = findings;
        this.values = values;
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
        Snapshot current = state.read().orElseThrow(() -> ServerNode.noRotationState(state));
        Stage stage = current.rotation().stage();
        if (stage == Stage.REENCRYPT_ACTIVE) {
            store.owner().ifPresent(owner -> {
                throw new AlreadyRunning(owner, OWNER_LEASE.toSeconds());
            });
        }
        boolean later = request.when() == ReencryptRequest.When.LATER;
        // read before the pass: a finding written after it started may be of values the pass already went past
        List<RetiredKeysInUse.Finding> found = findings.findings();
        Rotation.RetiredWriterFound retiredWriter = found.isEmpty() ? Rotation.RetiredWriterFound.NO
                : Rotation.RetiredWriterFound.YES;
        Outcome outcome = later ? Rotation.requestReencrypt(current.rotation(), force, retiredWriter)
                : Rotation.startReencrypt(current.rotation(), force, retiredWriter);
        if (outcome instanceof Outcome.AlreadyDone done) {
            return done.summary();
        }
        Outcome.Changed next = changed(outcome);
        // -f skips the stage order only: values rewritten under a key a server lacks would be unreadable there
        node.requireEveryServerOn(current, "reencrypt", ReportMatch.CONFIG);
        // every refusal comes before the first change: a refused reencrypt leaves the stage where it was
        List<Target> targets = targets(current);
        Pass pass = pass(targets);
        requireKubernetesData(Renewal.OBSERVED);
        boolean inProgress = stage == Stage.REENCRYPT_REQUEST || stage == Stage.REENCRYPT_ACTIVE;
        Optional<RunRecord> resumable = RunRecord.fromJson(store.runRecord())
                .filter(r -> inProgress && r.resumes(current.configHash()));
        RunRecord run = resumable.map(r -> r.withSkip(r.skip() || skip))
                .orElseGet(() -> new RunRecord(RunRecord.Status.REQUESTED, inProgress ? Stage.ROTATE : stage, skip,
                        nodeName, clock.instant().toString(), null, Checkpoint.start(), current.configHash()));
        if (later) {
            Snapshot requested = replace(current, next);
            store.saveRunRecord(run.toJson());
            return "re-encryption requested at revision " + requested.revision() + ": the leading agent carries it "
                    + "out, or run reencrypt on any server";
        }
        try (Ownership owner = store.claim(nodeName, OWNER_LEASE)) {
            // CAS against what the checks and the targets were computed from: a change since then refuses the run
            Snapshot active = replace(current, next);
            return runOwned(active, run, owner, pass, targets, found);
        }
    }

    /** The node whose re-encryption lease is live, if any: a running pass, or one killed less than a lease ago. */
    Optional<String> leaseHolder() {
        return store.owner();
    }

    private String runOwned(Snapshot active, RunRecord run, Ownership owner, Pass pass, List<Target> passed,
                            List<RetiredKeysInUse.Finding> found) throws Exception {
        boolean resumed = run.checkpoint().done() > 0;
        RunRecord running = run.with(RunRecord.Status.RUNNING, run.checkpoint(), null).byNode(nodeName);
        store.saveRunRecord(running.toJson());
        AtomicReference<Checkpoint> last = new AtomicReference<>(run.checkpoint());
        AtomicBoolean stopping = new AtomicBoolean();
        Object saving = new Object(); // a stop waits for a checkpoint save in flight, and no save follows it
        Thread onInterrupt = new Thread(() -> {
            stopping.set(true);
            synchronized (saving) {
                stopped(running, last.get(), owner);
            }
        }, "reencrypt-interrupted");
        Runtime.getRuntime().addShutdownHook(onInterrupt);
        PassResult result;
        try {
            result = pass.run(run.checkpoint(), c -> {
                if (owner.lost()) {
                    throw new CommandRefused("this node lost its re-encryption lease (etcd did not confirm its renewal "
                            + "in time); the checkpoint is saved: run reencrypt again to resume");
                }
                synchronized (saving) {
                    if (stopping.get()) {
                        throw new CommandRefused("reencrypt was stopped; the checkpoint is saved: run it again to resume");
                    }
                    last.set(c);
                    store.saveRunRecord(running.with(RunRecord.Status.RUNNING, c, null).toJson());
                }
                progress.progress(c);
            });
        } finally {
            removeHook(onInterrupt);
        }
        Checkpoint done = result.checkpoint();
        Checkpoint before = run.checkpoint();
        // this run's own work and rate; what the interrupted run did is counted apart
        String summary = (resumed ? "resumed from its checkpoint; " : "") + Summary.of(
                done.rewritten() - before.rewritten(), done.unchanged() - before.unchanged(),
                done.failed() - before.failed(), result.elapsed())
                + (resumed ? "; " + before.done() + " values were done before the interruption" : "");
        Snapshot latest = state.read().orElseThrow();
        if (latest.revision() != active.revision()) {
            store.saveRunRecord(running.with(RunRecord.Status.FAILED, done, "the rotation state changed during the pass").toJson());
            throw new CommandRefused(summary + "\nno key retired: the rotation state changed during the pass (another "
                    + "secrets-encrypt command ran); run status, then reencrypt again");
        }
        if (done.failed() > 0) {
            throw fail(latest, running, done, summary, unreadableMessage(done));
        }
        if (run.skip()) {
            replace(latest, changed(Rotation.returnFromReencrypt(latest.rotation(), run.fromStage())));
            findings.resolved(found); // every value is under the active key now, those a retired key wrote too
            store.saveRunRecord(running.with(RunRecord.Status.FINISHED, done, "--skip: no key removed").toJson());
            return summary + "\nno key removed (--skip); stage back to " + run.fromStage().text();
        }
        // whatever the flags: a server that has not loaded the rotated config may still write with a key about to go
        Optional<String> behind = node.serversBehind(latest, ReportMatch.CONFIG);
        if (behind.isPresent()) {
            throw fail(latest, running, done, summary, "no key retired: " + behind.get() + ", then run reencrypt "
                    + "again (-f does not skip this: retiring a key a server still uses makes its values unreadable; "
                    + "reencrypt -f --skip rewrites without retiring)");
        }
        return summary + "\n" + retireUnusedKeys(latest, running, done, summary, passed, found);
    }

    /**
     * Ctrl-C or a stop signal during the pass: the record says the run stopped and where, and the lease is revoked so
     * any server can resume at once instead of after the lease lapses. Best effort: the process is going away.
     */
    private void stopped(RunRecord running, Checkpoint at, Ownership owner) {
        try {
            store.saveRunRecord(running.with(RunRecord.Status.STOPPED, at, "interrupted at " + clock.instant())
                    .toJson());
            owner.close();
            notes.accept("reencrypt stopped at " + at.done() + "/" + at.total() + " values; the checkpoint is saved: "
                    + "run reencrypt again (on any server) to resume");
        } catch (RuntimeException e) {
            notes.accept("reencrypt stopped at " + at.done() + "/" + at.total() + " values; run reencrypt again to "
                    + "resume once its lease lapses (" + OWNER_LEASE.toSeconds() + " s)");
        }
    }

    private static void removeHook(Thread hook) {
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
            // the hook is running or ran: nothing to undo
        }
    }

    /** Back to the stage the run started from, the record says why, and the command exits 1. */
    private CommandRefused fail(Snapshot latest, RunRecord running, Checkpoint done, String summary, String reason) {
        replace(latest, changed(Rotation.returnFromReencrypt(latest.rotation(), running.fromStage())));
        store.saveRunRecord(running.with(RunRecord.Status.FAILED, done, reason).toJson());
        return new CommandRefused(summary + "\n" + reason);
    }

    private Pass pass(List<Target> targets) {
        return values.pass(targets, PassSettings.defaults());
    }

    /**
     * Every kube-apiserver stores its namespaces: none under the prefix means a wrong --etcd-prefix or --endpoints, and
     * a scan of nothing must never conclude that every old key is unused.
     */
    /**
     * rotate-keys asks before its first step: a wrong --etcd-prefix or --endpoints is refused before prepare, not after
     * rotate. The renewal is watched later, by reencrypt itself.
     */
    void requireKubernetesDataPresent() {
        requireKubernetesData(Renewal.BY_TIME);
    }

    /** How a live prefix is told from a copy: by the leases' renew times, or by watching one of them renewed. */
    private enum Renewal { BY_TIME, OBSERVED }

    /**
     * Refuses data that is missing or not the live cluster's; notes when liveness cannot be checked. Before keys may be
     * retired (reencrypt) a renewal must be seen happen: a copy taken a minute ago still has recent renew times.
     */
    private void requireKubernetesData(Renewal renewal) {
        String namespaces = etcdPrefix.under("namespaces");
        if (store.count(namespaces) == 0) {
            throw new CommandRefused("no kube-apiserver data under " + etcdPrefix + " in " + state.describe()
                    + " (no " + namespaces + "): check --etcd-prefix (kube-apiserver's --etcd-prefix, default /registry) "
                    + "and --endpoints; nothing was changed");
        }
        String leases = ApiserverLeases.leasePrefix(etcdPrefix);
        ApiserverLeases.Liveness liveness = ApiserverLeases.judge(store.values(leases, MAX_LEASES), clock.instant());
        if (liveness instanceof ApiserverLeases.Liveness.Stale stale) {
            throw notLive(leases, "none of its " + stale.leases() + " kube-apiserver identity lease(s) was renewed since "
                    + stale.newestRenewal());
        }
        if (liveness instanceof ApiserverLeases.Liveness.Unknown) {
            if (renewal == Renewal.BY_TIME) {
                return; // verify only reads: the note matters where keys may be retired
            }
            notes.accept("note: no kube-apiserver identity lease under " + leases + "… (kube-apiserver before 1.26?), "
                    + "so whether " + etcdPrefix + " is the live cluster's data cannot be checked: make sure "
                    + "--etcd-prefix and --endpoints are kube-apiserver's own");
            return;
        }
        if (renewal == Renewal.OBSERVED && !renewalSeen(leases)) {
            throw notLive(leases, "none of its kube-apiserver identity leases was renewed in "
                    + ApiserverLeases.RENEWAL_WAIT.toSeconds() + " s");
        }
    }

    private CommandRefused notLive(String leases, String why) {
        return new CommandRefused("the data under " + etcdPrefix + " is not the live cluster's: " + why + " (" + leases
                + "…), and a running kube-apiserver renews its own every 10 s. A copy (a restore under another "
                + "prefix?) would let keys the live data needs be retired. Check --etcd-prefix (kube-apiserver's "
                + "--etcd-prefix) and --endpoints, and this server's clock; nothing was changed");
    }

    /** Waits until a lease under {@code leases} is written again (kube-apiserver renews every 10 s). */
    private boolean renewalSeen(String leases) {
        long before = store.newestRevision(leases);
        long deadline = System.nanoTime() + ApiserverLeases.RENEWAL_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CommandRefused("interrupted while waiting to see kube-apiserver renew its lease; nothing was "
                        + "changed");
            }
            if (store.newestRevision(leases) > before) {
                return true;
            }
        }
        return false;
    }

    /**
     * A confirming scan, then the old keys it found no value under leave the config but stay wrapped in the state.
     * After a clean pass over everything those keys protect, a value still under an old key means some kube-apiserver
     * wrote with it since the pass went by: the run fails and says so, retiring nothing, instead of calling it done.
     */
    private String retireUnusedKeys(Snapshot latest, RunRecord running, Checkpoint done, String summary,
                                    List<Target> passed, List<RetiredKeysInUse.Finding> found) {
        RotationState rotation = latest.rotation();
        Optional<List<Target>> everyUser = everyResourceOfTheSecretsRule(latest);
        if (everyUser.isEmpty()) {
            return finishWithoutRetiring(latest, running, done, "no old key retired: the rule that covers Secrets "
                    + "names a wildcard resource, so no scan can prove a key unused");
        }
        // every resource whose values these keys protect, whatever --resources limited the pass to
        ScanResult scan = values.scan(everyUser.get(), PassSettings.defaults(), n -> { });
        if (scan.unreadableCount() > 0) {
            throw fail(latest, running, done, summary, "no key retired: " + scan.unreadableCount() + " value(s) of resources "
                    + "protected by the same keys cannot be read (verify lists them):\n  "
                    + String.join("\n  ", scan.unreadable().stream().limit(LISTED_UNREADABLE).toList())
                    + "\n" + WHAT_TO_DO);
        }
        KeyUsage usage = new KeyUsage(scan.valuesPerKey(), scan.unreadableCount(), true);
        Retirement retirement = Rotation.retire(rotation, usage);
        Map<KeyRef, Long> stillUsed = Rotation.oldKeysInUse(rotation, usage);
        if (latest.retiredKeys().stream().noneMatch(k -> stillUsed.containsKey(new KeyRef(k.type(), k.key().name())))) {
            findings.resolved(found); // the pass rewrote what a retired key wrote, and nothing is left under one
        }
        boolean passCoveredThemAll = everyUser.get().stream().map(Target::etcdPrefix)
                .allMatch(p -> passed.stream().anyMatch(t -> t.etcdPrefix().equals(p)));
        if (!stillUsed.isEmpty() && passCoveredThemAll) {
            throw fail(latest, running, done, summary, oldKeyStillWritten(stillUsed));
        }
        if (retirement.retired().isEmpty()) {
            return finishWithoutRetiring(latest, running, done, stillUsed.isEmpty() ? "no old key to retire"
                    : "no old key retired: " + usedBy(stillUsed) + " in resources this pass did not cover "
                    + "(--resources): run reencrypt without --resources to rewrite them and retire the key");
        }
        List<RetiredKey> retired = new ArrayList<>(latest.retiredKeys());
        retirement.retired().forEach(r -> retired.add(new RetiredKey(r.type(), r.key(), clock.instant())));
        String removed = String.join(", ", retirement.retired().stream().map(r -> r.ref().toString()).toList());
        Outcome.Changed finished = changed(Rotation.finishReencrypt(retirement.next(), running.fromStage()));
        Snapshot saved = state.replace(latest.revision(), new Snapshot(latest.revision(), finished.next(), retired));
        node.writeNodeFile(saved, false);
        store.saveRunRecord(running.with(RunRecord.Status.FINISHED, done, "retired [" + removed + "]").toJson());
        boolean one = retirement.retired().size() == 1;
        return "retired " + removed + " (no stored value uses " + (one ? "it" : "them") + "; kept wrapped in the "
                + "cluster state to read values restored from old snapshots)"
                + (stillUsed.isEmpty() ? "" : "; kept " + usedBy(stillUsed) + " in resources this pass did not cover "
                + "(--resources)") + "; " + finished.summary() + ": restart every kube-apiserver";
    }

    /** Old keys still under values after a clean pass: who may write with them, and what to do. */
    private String oldKeyStillWritten(Map<KeyRef, Long> stillUsed) {
        List<String> fileOnly = node.serversReportingTheFileOnly();
        return "no key retired: " + usedBy(stillUsed) + " after a clean pass over every resource "
                + (stillUsed.size() > 1 ? "they protect" : "it protects") + ", so some kube-apiserver still writes "
                + "with " + (stillUsed.size() > 1 ? "them" : "it") + " (every registered server reports the rotated "
                + "config and every running apiserver is one of theirs"
                + (fileOnly.isEmpty() ? ")" : "; the reports of " + String.join(", ", fileOnly) + " say what the file "
                + "holds, not what kube-apiserver loaded: restart kube-apiserver there)")
                + ". Look for a kube-apiserver on an old config (one outside this tool's servers, sharing this etcd), "
                + "then run reencrypt again; verify counts the values per key";
    }

    private static String usedBy(Map<KeyRef, Long> stillUsed) {
        return String.join(", ", stillUsed.entrySet().stream().map(e -> e.getValue() + " value(s) still under "
                + e.getKey()).toList());
    }

    private String finishWithoutRetiring(Snapshot latest, RunRecord running, Checkpoint done, String why) {
        Outcome.Changed finished = changed(Rotation.finishReencrypt(latest.rotation(), running.fromStage()));
        replace(latest, finished);
        store.saveRunRecord(running.with(RunRecord.Status.FINISHED, done, why).toJson());
        return why + "; " + finished.summary();
    }

    /** Targets for every resource the Secrets rule covers; empty when it names a wildcard (no prefix list exists). */
    private Optional<List<Target>> everyResourceOfTheSecretsRule(Snapshot s) {
        EncryptionConfig config = s.rotation().config();
        EncryptionConfig secretsOnly = config.withResources(List.of(config.secretsRule().orElseThrow()));
        if (Targets.namesAWildcard(secretsOnly)) {
            return Optional.empty();
        }
        return Optional.of(Targets.resolve(secretsOnly, etcdPrefix, List.of(), retiredReaders(s)));
    }

    /** Counts stored values per key and lists the ones no configured or retired key can read. */
    public ScanResult verify() {
        Snapshot current = state.read().orElseThrow(() -> ServerNode.noRotationState(state));
        requireKubernetesData(Renewal.BY_TIME);
        return values.scan(targets(current), PassSettings.defaults(), n -> {
            try {
                progress.progress(Checkpoint.counted(n));
            } catch (Exception e) {
                throw new IllegalStateException("a progress listener failed", e);
            }
        });
    }

    private List<Target> targets(Snapshot s) {
        return Targets.resolve(s.rotation().config(), etcdPrefix, resources, retiredReaders(s));
    }

    /** Retired keys read (values restored from old snapshots) but never write. */
    private static List<ReadOnlyKey> retiredReaders(Snapshot s) {
        return s.retiredKeys().stream().map(k -> new ReadOnlyKey(k.type(), k.key())).toList();
    }

    /** Stores a rule's new state with a compare-and-swap on the revision it was computed from; the same state is kept. */
    private Snapshot replace(Snapshot s, Outcome.Changed next) {
        if (s.rotation().equals(next.next())) {
            return s;
        }
        return state.replace(s.revision(), s.with(next.next()));
    }

    private static Outcome.Changed changed(Outcome outcome) {
        if (outcome instanceof Outcome.Refused refused) {
            throw new CommandRefused(refused.reason());
        }
        if (outcome instanceof Outcome.Changed c) {
            return c;
        }
        throw new IllegalStateException("no change where one was due: " + outcome);
    }

    private static String unreadableMessage(Checkpoint c) {
        List<String> listed = c.unreadable().stream().limit(LISTED_UNREADABLE).toList();
        long others = c.failed() - c.unreadable().size();
        return c.failed() + " stored value(s) were left untouched and no key was retired"
                + (listed.isEmpty() ? "" : "; no configured or retired key can read these:\n  " + String.join("\n  ", listed))
                + (c.unreadable().size() > listed.size() ? "\n  … (" + (c.unreadable().size() - listed.size())
                + " more; verify lists them)" : "")
                + (others > 0 ? "\n" + others + " value(s) kept changing or grew too large for etcd (warnings above)" : "")
                + "\n" + WHAT_TO_DO;
    }
}
