package dev.secretsencrypt.rotation;

/**
 * What a rotation rule decides: a new state with what changed, the work already done (a retried command exits 0 and
 * says so), or a refusal that says what to do next.
 */
public sealed interface Outcome permits Outcome.Changed, Outcome.AlreadyDone, Outcome.Refused {
    record Changed(RotationState next, String summary) implements Outcome {
    }

    record AlreadyDone(String summary) implements Outcome {
    }

    record Refused(String reason) implements Outcome {
    }
}
