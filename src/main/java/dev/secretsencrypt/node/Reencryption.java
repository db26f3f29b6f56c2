package dev.secretsencrypt.node;

import dev.secretsencrypt.failure.AlreadyRunning;
import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.config.EncryptionConfig;
import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.config.Provider;
import dev.secretsencrypt.reencrypt.ApiserverLeases;
import dev.secretsencrypt.reencrypt.Checkpoint;
import dev.secretsencrypt.reencrypt.Pass;
import dev.secretsencrypt.reencrypt.PassResult;
import dev.secretsencrypt.reencrypt.PassSettings;
import dev.secretsencrypt.reencrypt.ProgressReport;
import dev.secretsencrypt.reencrypt.ReadOnlyKey;
import dev.secretsencrypt.reencrypt.Scan;
import dev.secretsencrypt.reencrypt.ScanResult;
import dev.secretsencrypt.reencrypt.Target;
import dev.secretsencrypt.reencrypt.Targets;
import dev.secretsencrypt.config.KeyRef;
import dev.secretsencrypt.rotation.KeyUsage;
import dev.secretsencrypt.rotation.Retirement;
import dev.secretsencrypt.rotation.Rotation;
import dev.secretsencrypt.rotation.RotationState;
import dev.secretsencrypt.rotation.Stage;
import dev.secretsencrypt.store.ClusterState;
import dev.secretsencrypt.store.Ownership;
import dev.secretsencrypt.store.ReencryptionStore;
import dev.secretsencrypt.store.RetiredKey;
import dev.secretsencrypt.store.Snapshot;
import java.io.PrintStream;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code reencrypt} and {@code verify}: rewrite every stored value under the active key directly in etcd, resumably
 * (a lease-held owner and a checkpoint), then retire the keys that a confirming scan finds no value under.
 */
public final class Reencryption {
    /** At most 30 s, as the issue asks: a dead owner blocks a resume for no longer than this. */
    public static final Duration OWNER_LEASE = Duration.ofSeconds(20);
    private static final Set<Stage> STARTS = EnumSet.of(Stage.ROTATE, Stage.REENCRYPT_REQUEST, Stage.REENCRYPT_ACTIVE);
    private static final int LISTED_UNREADABLE = 20;
    private static final int MAX_LEASES = 1000; // one per apiserver; far more than any control plane runs
    private static final String WHAT_TO_DO = "Restore the key that wrote them (a value a KMS plugin encrypted needs that "
            + "plugin: rewrite it through the API server); delete an object only if it is garbage; then run reencrypt again.";

    private final ServerNode node;
    private final ClusterState state;
    private final ReencryptionStore store;
    private final String nodeName;
    private final String etcdPrefix;
    private final List<String> resources;
    private final PrintStream progressOut;
    private final Clock clock;

    public Reencryption(ServerNode node, ClusterState state, String nodeName, String etcdPrefix, List<String> resources,
                        PrintStream progressOut, Clock clock) {
        this.node = node;
        this.state = state;
        this.store = requireDatastore(state);
        this.nodeName = nodeName;
        this.etcdPrefix = normalized(etcdPrefix);
        this.resources = resources;
        this.progressOut = progressOut;
        this.clock = clock;
    }

    /** As kube-apiserver reads its --etcd-prefix: {@code registry}, {@code /registry/} and {@code /registry} are one. */
    static String normalized(String etcdPrefix) {
        String trimmed = etcdPrefix.replaceAll("^/+|/+$", "");
        if (trimmed.isEmpty()) {
            throw new CommandRefused("--etcd-prefix \"" + etcdPrefix + "\" names no prefix: give kube-apiserver's "
                    + "--etcd-prefix (default /registry)");
        }
        return "/" + trimmed;
    }

    static ReencryptionStore requireDatastore(ClusterState state) {
        if (state instanceof ReencryptionStore s) {
            return s;
        }
        throw new CommandRefused("reencrypt and verify work on the values stored in etcd, so each needs the datastore: run "
                + "it with --endpoints set to the etcd that kube-apiserver uses (enable --endpoints adopts this "
                + "server's config and stage)");
    }

    public String reencrypt(boolean force, boolean skip, boolean async) throws Exception {
        Snapshot current = state.read().orElseThrow(() -> new CommandRefused("there is no rotation state in "
                + state.describe() + ": run enable first"));
        Stage stage = current.rotation().stage();
        if (stage == Stage.REENCRYPT_ACTIVE) {
            store.owner().ifPresent(owner -> {
                throw new AlreadyRunning(owner, OWNER_LEASE.toSeconds());
            });
        }
        if (!force && !STARTS.contains(stage)) {
            throw new CommandRefused("reencrypt needs stage rotate, the current stage is " + stage.text()
                    + ": run prepare and rotate first (or -f to skip this check)");
        }
        if (!force) {
            node.requireEveryServerOn(current, "reencrypt", false);
        }
        if (current.rotation().config().secretsRule().isEmpty()) {
            throw new CommandRefused("no rule of the encryption config covers secrets, so there are no keys to "
                    + "re-encrypt from: add one (resources: [secrets]) with enable, then run reencrypt");
        }
        // every refusal comes before the first change: a refused reencrypt leaves the stage where it was
        List<Target> targets = targets(current);
        Pass pass = pass(targets);
        String liveness = requireKubernetesData().map(note -> "\n" + note).orElse("");
        boolean inProgress = stage == Stage.REENCRYPT_REQUEST || stage == Stage.REENCRYPT_ACTIVE;
        Optional<RunRecord> resumable = RunRecord.fromJson(store.runRecord())
                .filter(r -> inProgress && r.resumes(current.configHash()));
        RunRecord run = resumable.map(r -> r.withSkip(r.skip() || skip))
                .orElseGet(() -> new RunRecord(RunRecord.Status.REQUESTED, inProgress ? Stage.ROTATE : stage, skip,
                        nodeName, clock.instant().toString(), null, Checkpoint.start(), current.configHash()));
        if (async) {
            Snapshot requested = moveTo(current, Stage.REENCRYPT_REQUEST);
            store.saveRunRecord(run.toJson());
            return "re-encryption requested at revision " + requested.revision() + "; run reencrypt on any server "
                    + "(or let the agent) carry it out" + liveness;
        }
        try (Ownership owner = store.claim(nodeName, OWNER_LEASE)) {
            // CAS against what the checks and the targets were computed from: a change since then refuses the run
            Snapshot active = moveTo(current, Stage.REENCRYPT_ACTIVE);
            return runOwned(active, run, owner, pass, force) + liveness;
        }
    }

    private String runOwned(Snapshot active, RunRecord run, Ownership owner, Pass pass, boolean force) throws Exception {
        boolean resumed = run.checkpoint().done() > 0;
        RunRecord running = run.with(RunRecord.Status.RUNNING, run.checkpoint(), null).byNode(nodeName);
        store.saveRunRecord(running.toJson());
        PassResult result;
        try (ProgressReport progress = ProgressReport.start("reencrypt", run.checkpoint().total(), progressOut)) {
            result = pass.run(run.checkpoint(), c -> {
                if (owner.lost()) {
                    throw new CommandRefused("this node lost its re-encryption lease (etcd did not confirm its renewal "
                            + "in time); the checkpoint is saved: run reencrypt again to resume");
                }
                store.saveRunRecord(running.with(RunRecord.Status.RUNNING, c, null).toJson());
                progress.update(c.done(), c.total());
            });
        }
        Checkpoint done = result.checkpoint();
        Checkpoint before = run.checkpoint();
        // this run's own work and rate; what the interrupted run did is counted apart
        String summary = (resumed ? "resumed from its checkpoint; " : "") + ProgressReport.summary(
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
            moveTo(latest, run.fromStage());
            store.saveRunRecord(running.with(RunRecord.Status.FINISHED, done, "--skip: no key removed").toJson());
            return summary + "\nno key removed (--skip); stage back to " + run.fromStage().text();
        }
        // whatever the flags: a server that has not loaded the rotated config may still write with a key about to go
        Optional<String> behind = node.serversBehind(latest, false);
        if (behind.isPresent()) {
            throw fail(latest, running, done, summary, "no key retired: " + behind.get() + ", then run reencrypt "
                    + "again (-f does not skip this: retiring a key a server still uses makes its values unreadable; "
                    + "reencrypt -f --skip rewrites without retiring)");
        }
        return summary + "\n" + retireUnusedKeys(latest, running, done, summary);
    }

    /** Back to the stage the run started from, the record says why, and the command exits 1. */
    private CommandRefused fail(Snapshot latest, RunRecord running, Checkpoint done, String summary, String reason) {
        moveTo(latest, running.fromStage());
        store.saveRunRecord(running.with(RunRecord.Status.FAILED, done, reason).toJson());
        return new CommandRefused(summary + "\n" + reason);
    }

    private Pass pass(List<Target> targets) {
        return new Pass(store.datastore(), targets, PassSettings.defaults());
    }

    /**
     * Every kube-apiserver stores its namespaces: none under the prefix means a wrong --etcd-prefix or --endpoints, and
     * a scan of nothing must never conclude that every old key is unused.
     */
    /** Refuses data that is missing or not live; the note says when liveness could not be checked. */
    private Optional<String> requireKubernetesData() {
        String namespaces = etcdPrefix + "/namespaces/"; // etcdPrefix is normalised: one leading '/', none trailing
        if (store.count(namespaces) == 0) {
            throw new CommandRefused("no kube-apiserver data under " + etcdPrefix + " in " + state.describe()
                    + " (no " + namespaces + "): check --etcd-prefix (kube-apiserver's --etcd-prefix, default /registry) "
                    + "and --endpoints; nothing was changed");
        }
        String leases = ApiserverLeases.leasePrefix(etcdPrefix);
        ApiserverLeases.Liveness liveness = ApiserverLeases.judge(store.values(leases, MAX_LEASES), clock.instant());
        if (liveness instanceof ApiserverLeases.Liveness.Stale stale) {
            throw new CommandRefused("the data under " + etcdPrefix + " is not the live cluster's: none of its "
                    + stale.leases() + " kube-apiserver identity lease(s) (" + leases + "…) was renewed since "
                    + stale.newestRenewal() + ", and a running kube-apiserver renews its own every 10 s. A stale copy "
                    + "(an old restore under another prefix?) would let keys the live data needs be retired. Check "
                    + "--etcd-prefix (kube-apiserver's --etcd-prefix) and --endpoints, and this server's clock; nothing "
                    + "was changed");
        }
        if (liveness instanceof ApiserverLeases.Liveness.Unknown) {
            return Optional.of("note: no kube-apiserver identity lease under " + leases + "… (kube-apiserver before "
                    + "1.26?), so whether " + etcdPrefix + " is the live cluster's data could not be checked");
        }
        return Optional.empty();
    }

    /** A confirming scan, then the old keys it found no value under leave the config but stay wrapped in the state. */
    private String retireUnusedKeys(Snapshot latest, RunRecord running, Checkpoint done, String summary) {
        RotationState rotation = latest.rotation();
        Stage end = endStage(running);
        Optional<List<Target>> everyUser = everyResourceOfTheSecretsRule(latest);
        if (everyUser.isEmpty()) {
            return finishWithoutRetiring(latest, running, done, end, "no old key retired: the rule that covers Secrets "
                    + "names a wildcard resource, so no scan can prove a key unused");
        }
        // every resource whose values these keys protect, whatever --resources limited the pass to
        ScanResult scan = Scan.run(store.datastore(), everyUser.get(), PassSettings.defaults().pageSize(),
                PassSettings.defaults().timeout(), n -> { });
        if (scan.unreadableCount() > 0) {
            throw fail(latest, running, done, summary, "no key retired: " + scan.unreadableCount() + " value(s) of resources "
                    + "protected by the same keys cannot be read (verify lists them):\n  "
                    + String.join("\n  ", scan.unreadable().stream().limit(LISTED_UNREADABLE).toList())
                    + "\n" + WHAT_TO_DO);
        }
        Retirement retirement = Rotation.retire(rotation, new KeyUsage(scan.valuesPerKey(), scan.unreadableCount(), true));
        if (retirement.retired().isEmpty()) {
            return finishWithoutRetiring(latest, running, done, end, "every old key is still used by a stored value: "
                    + "none retired");
        }
        List<RetiredKey> retired = new ArrayList<>(latest.retiredKeys());
        retirement.retired().forEach(r -> retired.add(new RetiredKey(r.type(), r.key(), clock.instant())));
        String removed = String.join(", ", retirement.retired().stream().map(r -> r.ref().toString()).toList());
        Snapshot saved = state.replace(latest.revision(), new Snapshot(latest.revision(),
                retirement.next().withStage(end), retired));
        node.writeNodeFile(saved, false);
        store.saveRunRecord(running.with(RunRecord.Status.FINISHED, done, "retired [" + removed + "]").toJson());
        return "retired " + removed + " (no stored value uses them; kept wrapped in the cluster state "
                + "to read values restored from old snapshots); stage " + end.text() + ": restart every kube-apiserver";
    }

    /**
     * A run forced from start or prepare goes back there: it rewrote values, but the rotation it did not finish must be
     * able to go on (rotate needs its prepared key and stage).
     */
    private static Stage endStage(RunRecord running) {
        Stage from = running.fromStage();
        return from == Stage.START || from == Stage.PREPARE ? from : Stage.REENCRYPT_FINISHED;
    }

    private String finishWithoutRetiring(Snapshot latest, RunRecord running, Checkpoint done, Stage end, String why) {
        moveTo(latest, end);
        store.saveRunRecord(running.with(RunRecord.Status.FINISHED, done, why).toJson());
        return why + "; stage " + end.text();
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
        Snapshot current = state.read().orElseThrow(() -> new CommandRefused("there is no rotation state in "
                + state.describe() + ": run enable first"));
        requireKubernetesData();
        try (ProgressReport progress = ProgressReport.start("verify", 0, progressOut)) {
            return Scan.run(store.datastore(), targets(current), PassSettings.defaults().pageSize(),
                    PassSettings.defaults().timeout(), progress::update);
        }
    }

    /** The re-encryption progress for `status`: done/total and who runs it, while one is under way. */
    public static Optional<RunRecord> progress(ClusterState state) {
        if (!(state instanceof ReencryptionStore store)) {
            return Optional.empty();
        }
        return RunRecord.fromJson(store.runRecord());
    }

    private List<Target> targets(Snapshot s) {
        return Targets.resolve(s.rotation().config(), etcdPrefix, resources, retiredReaders(s));
    }

    /** Retired keys read (values restored from old snapshots) but never write. */
    private static List<ReadOnlyKey> retiredReaders(Snapshot s) {
        return s.retiredKeys().stream().map(k -> new ReadOnlyKey(k.type(), k.key())).toList();
    }

    private Snapshot moveTo(Snapshot s, Stage stage) {
        if (s.rotation().stage() == stage) {
            return s;
        }
        return state.replace(s.revision(), s.with(s.rotation().withStage(stage)));
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
