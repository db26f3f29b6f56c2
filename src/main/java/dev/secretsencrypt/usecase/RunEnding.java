package dev.secretsencrypt.usecase;

import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.reencrypt.Checkpoint;
import dev.secretsencrypt.rotation.Outcome;
import dev.secretsencrypt.rotation.Reencrypt;
import dev.secretsencrypt.store.ClusterState;
import dev.secretsencrypt.store.RunRecords;
import dev.secretsencrypt.store.Snapshot;

/** How a re-encryption run ends in the cluster state and its run record: finished, or failed back to where it began. */
final class RunEnding {
    private final ClusterState state;
    private final RunRecords runs;

    RunEnding(ClusterState state, RunRecords runs) {
        this.state = state;
        this.runs = runs;
    }

    /** Back to the stage the run started from, the record says why, and the command exits 1. */
    CommandRefused fail(Snapshot latest, RunRecord running, Checkpoint done, String summary, String reason) {
        replace(latest, changed(Reencrypt.returnFromReencrypt(latest.rotation(), running.fromStage())));
        runs.saveRunRecord(running.with(RunRecord.Status.FAILED, done, reason).toJson());
        return new CommandRefused(summary + "\n" + reason);
    }

    /** Done without retiring anything: the stage the run ends in, and why in the record. */
    String finishWithoutRetiring(Snapshot latest, RunRecord running, Checkpoint done, String why) {
        Outcome.Changed finished = changed(Reencrypt.finishReencrypt(latest.rotation(), running.fromStage()));
        replace(latest, finished);
        runs.saveRunRecord(running.with(RunRecord.Status.FINISHED, done, why).toJson());
        return why + "; " + finished.summary();
    }

    /** Stores a rule's new state with a compare-and-swap on the revision it was computed from; the same state is kept. */
    Snapshot replace(Snapshot s, Outcome.Changed next) {
        if (s.rotation().equals(next.next())) {
            return s;
        }
        return state.replace(s.revision(), s.with(next.next()));
    }

    static Outcome.Changed changed(Outcome outcome) {
        if (outcome instanceof Outcome.Refused refused) {
            throw new CommandRefused(refused.reason());
        }
        if (outcome instanceof Outcome.Changed c) {
            return c;
        }
        throw new IllegalStateException("no change where one was due: " + outcome);
    }
}
