package dev.secretsencrypt.usecase;

import dev.secretsencrypt.config.EncryptionConfig;
import dev.secretsencrypt.config.KeyRef;
import dev.secretsencrypt.reencrypt.Checkpoint;
import dev.secretsencrypt.reencrypt.PassSettings;
import dev.secretsencrypt.reencrypt.ReadOnlyKey;
import dev.secretsencrypt.reencrypt.ScanResult;
import dev.secretsencrypt.reencrypt.StoredValues;
import dev.secretsencrypt.reencrypt.Target;
import dev.secretsencrypt.reencrypt.Targets;
import dev.secretsencrypt.rotation.KeyUsage;
import dev.secretsencrypt.rotation.Outcome;
import dev.secretsencrypt.rotation.Reencrypt;
import dev.secretsencrypt.rotation.RetiredKey;
import dev.secretsencrypt.rotation.Retirement;
import dev.secretsencrypt.store.ClusterState;
import dev.secretsencrypt.store.EtcdPrefix;
import dev.secretsencrypt.store.RetiredKeysInUse;
import dev.secretsencrypt.store.RunRecords;
import dev.secretsencrypt.store.Snapshot;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * After a clean pass: a confirming scan, then the old keys it found no value under leave the config but stay wrapped
 * in the state ({@link Reencrypt#retire}). After a clean pass over everything those keys protect, a value still under
 * an old key means some kube-apiserver wrote with it since the pass went by: the run fails and says so, retiring
 * nothing, instead of calling it done.
 */
final class KeyRetirement {
    static final int LISTED_UNREADABLE = 20;
    static final String WHAT_TO_DO = "Restore the key that wrote them (a value a KMS plugin encrypted needs that "
            + "plugin: rewrite it through the API server); delete an object only if it is garbage; then run reencrypt again.";

    private final ClusterState state;
    private final RunRecords runs;
    private final RunEnding ending;
    private final RetiredKeysInUse findings;
    private final StoredValues values;
    private final ServerGate gate;
    private final NodeFile file;
    private final EtcdPrefix etcdPrefix;
    private final Clock clock;

    KeyRetirement(ClusterState state, RunRecords runs, RetiredKeysInUse findings, StoredValues values, ServerGate gate,
                  NodeFile file, EtcdPrefix etcdPrefix, Clock clock) {
        this.state = state;
        this.runs = runs;
        this.ending = new RunEnding(state, runs);
        this.findings = findings;
        this.values = values;
        this.gate = gate;
        this.file = file;
        this.etcdPrefix = etcdPrefix;
        this.clock = clock;
    }

    /** {@code passed}: the targets the pass went over; {@code found}: the retired writers known when it began. */
    String retire(Snapshot latest, RunRecord running, Checkpoint done, String summary, List<Target> passed,
                  List<RetiredKeysInUse.Finding> found) {
        Optional<List<Target>> everyUser = everyResourceOfTheSecretsRule(latest);
        if (everyUser.isEmpty()) {
            return ending.finishWithoutRetiring(latest, running, done, "no old key retired: the rule that covers "
                    + "Secrets names a wildcard resource, so no scan can prove a key unused");
        }
        // every resource whose values these keys protect, whatever --resources limited the pass to
        ScanResult scan = values.scan(everyUser.get(), PassSettings.defaults(), n -> { });
        if (scan.unreadableCount() > 0) {
            throw ending.fail(latest, running, done, summary, "no key retired: " + scan.unreadableCount() + " value(s) of "
                    + "resources protected by the same keys cannot be read (verify lists them):\n  "
                    + String.join("\n  ", scan.unreadable().stream().limit(LISTED_UNREADABLE).toList())
                    + "\n" + WHAT_TO_DO);
        }
        KeyUsage usage = new KeyUsage(scan.valuesPerKey(), scan.unreadableCount(), true);
        Map<KeyRef, Long> stillUsed = Reencrypt.oldKeysInUse(latest.rotation(), usage);
        if (latest.retiredKeys().stream().noneMatch(k -> stillUsed.containsKey(new KeyRef(k.type(), k.key().name())))) {
            findings.resolved(found); // the pass rewrote what a retired key wrote, and nothing is left under one
        }
        boolean passCoveredThemAll = everyUser.get().stream().map(Target::etcdPrefix)
                .allMatch(p -> passed.stream().anyMatch(t -> t.etcdPrefix().equals(p)));
        if (!stillUsed.isEmpty() && passCoveredThemAll) {
            throw ending.fail(latest, running, done, summary, oldKeyStillWritten(stillUsed, latest));
        }
        Retirement retirement = Reencrypt.retire(latest.rotation(), usage);
        if (retirement.retired().isEmpty()) {
            return ending.finishWithoutRetiring(latest, running, done, stillUsed.isEmpty() ? "no old key to retire"
                    : "no old key retired: " + usedBy(stillUsed) + " in resources this pass did not cover "
                    + "(--resources): run reencrypt without --resources to rewrite them and retire the key");
        }
        return retired(latest, running, done, retirement, stillUsed);
    }

    /** Before a pass: a key retired at its end must reach this server's file, so a file that cannot be written stops it now. */
    void requireFileWritable(Snapshot current) {
        file.requireWritable(current);
    }

    private String retired(Snapshot latest, RunRecord running, Checkpoint done, Retirement retirement,
                           Map<KeyRef, Long> stillUsed) {
        List<RetiredKey> retired = new ArrayList<>(latest.retiredKeys());
        retirement.retired().forEach(r -> retired.add(new RetiredKey(r.type(), r.key(), clock.instant())));
        String removed = String.join(", ", retirement.retired().stream().map(r -> r.ref().toString()).toList());
        Outcome.Changed finished = RunEnding.changed(Reencrypt.finishReencrypt(retirement.next(), running.fromStage()));
        Snapshot next = new Snapshot(latest.revision(), finished.next(), retired);
        file.requireWritable(next);
        Snapshot saved = state.replace(latest.revision(), next);
        file.writeAfter(saved, "retiring " + removed);
        runs.saveRunRecord(running.with(RunRecord.Status.FINISHED, done, "retired [" + removed + "]").toJson());
        boolean one = retirement.retired().size() == 1;
        return "retired " + removed + " (no stored value uses " + (one ? "it" : "them") + "; kept wrapped in the "
                + "cluster state to read values restored from old snapshots)"
                + (stillUsed.isEmpty() ? "" : "; kept " + usedBy(stillUsed) + " in resources this pass did not cover "
                + "(--resources)") + "; " + finished.summary() + ": restart every kube-apiserver";
    }

    /** Old keys still under values after a clean pass: who may write with them, and what to do. */
    private String oldKeyStillWritten(Map<KeyRef, Long> stillUsed, Snapshot latest) {
        List<String> fileOnly = gate.serversReportingTheFileOnly();
        boolean many = stillUsed.size() > 1;
        boolean retiredOnes = latest.retiredKeys().stream().anyMatch(k -> stillUsed.containsKey(new KeyRef(k.type(),
                k.key().name())));
        return "no key retired: " + usedBy(stillUsed) + (retiredOnes ? " (retired before: kube-apiserver cannot read "
                + "those values; they stay readable here through the archive)" : "") + " after a clean pass over every "
                + "resource "
                + (many ? "they protect" : "it protects") + ", so some kube-apiserver still writes with "
                + (many ? "them" : "it") + " (every registered server reports the rotated config and every running "
                + "apiserver is one of theirs" + (fileOnly.isEmpty() ? ")" : "; the reports of " + String.join(", ", fileOnly)
                + " say what the file holds, not what kube-apiserver loaded: restart kube-apiserver there)")
                + ". Look for a kube-apiserver on an old config (one outside this tool's servers, sharing this etcd), "
                + "then run reencrypt again; verify counts the values per key";
    }

    private static String usedBy(Map<KeyRef, Long> stillUsed) {
        return String.join(", ", stillUsed.entrySet().stream().map(e -> e.getValue() + " value(s) still under "
                + e.getKey()).toList());
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

    /** Retired keys read (values restored from old snapshots) but never write. */
    static List<ReadOnlyKey> retiredReaders(Snapshot s) {
        return s.retiredKeys().stream().map(k -> new ReadOnlyKey(k.type(), k.key())).toList();
    }
}
