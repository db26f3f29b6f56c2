package dev.secretsencrypt.usecase;

import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.store.ClusterState;
import dev.secretsencrypt.store.Snapshot;

/** The stored rotation state where a command needs one, with the one refusal where there is none. */
final class CurrentState {
    private CurrentState() {
    }

    static Snapshot of(ClusterState state) {
        return state.read().orElseThrow(() -> none(state));
    }

    static CommandRefused none(ClusterState state) {
        return new CommandRefused("there is no rotation state in " + state.describe() + ": run enable first");
    }
}
