package dev.secretsencrypt.usecase;

import dev.secretsencrypt.config.ProviderType;
import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.rotation.Outcome;
import dev.secretsencrypt.rotation.ReportMatch;
import dev.secretsencrypt.rotation.Rotation;
import dev.secretsencrypt.rotation.RotationState;
import dev.secretsencrypt.rotation.Stage;
import dev.secretsencrypt.store.ClusterState;
import dev.secretsencrypt.store.Membership;
import dev.secretsencrypt.store.Snapshot;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * enable, disable, prepare and rotate: read the state, apply the stage rule ({@link Rotation}), store the result with
 * a compare-and-swap, and write this node's file. A refusal changes nothing.
 */
public final class StageSteps {
    private final ClusterState state;
    private final Optional<ClusterState> singleServerRecord;
    private final NodeFile file;
    private final ThisServer server;
    private final ServerGate gate;
    private final Rotation rules;

    /** {@code singleServerRecord} is the data dir's own stage record where the state is in etcd: enable adopts it. */
    StageSteps(ClusterState state, Optional<ClusterState> singleServerRecord, NodeFile file, ThisServer server,
               ServerGate gate, Rotation rules) {
        this.state = state;
        this.singleServerRecord = singleServerRecord;
        this.file = file;
        this.server = server;
        this.gate = gate;
        this.rules = rules;
    }

    /** Adopts this node's existing, valid encryption-config.json when nothing is stored yet. */
    public String enable(ProviderType type) {
        Optional<Membership.Joined> joined = server.ourCluster();
        Optional<Snapshot> current = state.read().or(() -> file.adopt(singleServerRecord));
        String done = summary(store(current, s -> rules.enable(s, type, retiredNames(current))));
        server.join(joined);
        return done;
    }

    public String disable() {
        return summary(store(state.read(), rules::disable));
    }

    public String prepare(Optional<ProviderType> type, boolean force) {
        return summary(prepareStep(type, force));
    }

    /** prepare as a step of rotate-keys: what changed, without the advice to restart (rotate-keys waits itself). */
    String prepareDone() {
        return done(prepareStep(Optional.empty(), false));
    }

    private Outcome prepareStep(Optional<ProviderType> type, boolean force) {
        Optional<Snapshot> current = state.read();
        return store(current, s -> rules.prepare(s, type, force, retiredNames(current)));
    }

    /** A new key never takes a retired key's name: restored values under that name must stay readable. */
    private static Set<String> retiredNames(Optional<Snapshot> s) {
        return s.map(x -> x.retiredKeys().stream().map(k -> k.key().name()).collect(Collectors.toSet())).orElse(Set.of());
    }

    /**
     * Refused until every server reports the prepared config and every running kube-apiserver is one of theirs, so no
     * server writes with a key others lack.
     */
    public String rotate(boolean force) {
        return summary(rotateStep(force));
    }

    /** rotate as a step of rotate-keys: what changed, without the advice to restart. */
    String rotateDone() {
        return done(rotateStep(false));
    }

    private Outcome rotateStep(boolean force) {
        Optional<Snapshot> current = state.read();
        Outcome outcome = rules.rotate(current.map(Snapshot::rotation), force);
        // -f skips the stage order only: a server that lacks the new key must never see it become the writer
        if (outcome instanceof Outcome.Changed && current.isPresent()) {
            gate.requireEveryServerOn(current.get(), "rotate", current.get().rotation().stage() == Stage.PREPARE
                    ? ReportMatch.CONFIG_AND_STAGE : ReportMatch.CONFIG);
        }
        return store(current, s -> outcome);
    }

    private static String summary(Outcome stored) {
        return stored instanceof Outcome.Changed changed ? changed.summary() : ((Outcome.AlreadyDone) stored).summary();
    }

    private static String done(Outcome stored) {
        return stored instanceof Outcome.Changed changed ? changed.done() : ((Outcome.AlreadyDone) stored).summary();
    }

    /** Applies a rule and stores its new state (with a CAS) and this node's file; returns what it decided. */
    private Outcome store(Optional<Snapshot> current, Function<Optional<RotationState>, Outcome> rule) {
        Outcome outcome = rule.apply(current.map(Snapshot::rotation));
        if (outcome instanceof Outcome.Refused refused) {
            throw new CommandRefused(refused.reason());
        }
        if (outcome instanceof Outcome.AlreadyDone) {
            return outcome;
        }
        Outcome.Changed changed = (Outcome.Changed) outcome;
        boolean unchanged = current.isPresent() && current.get().revision() > 0
                && current.get().rotation().equals(changed.next());
        if (!unchanged) {
            Snapshot base = current.orElse(Snapshot.unsaved(changed.next()));
            Snapshot next = base.with(changed.next());
            file.requireKeysKept(next, false);
            file.requireWritable(next);
            Snapshot saved = state.replace(base.revision(), next);
            file.writeAfter(saved, "the step"); // a retired writer it replaced is recorded: status says so
        }
        return changed;
    }
}
