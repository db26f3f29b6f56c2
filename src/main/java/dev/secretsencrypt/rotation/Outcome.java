package dev.secretsencrypt.rotation;

/** What a rotation rule decides: a new state with what changed, or a refusal that says what to do next. */
public sealed interface Outcome permits Outcome.Changed, Outcome.Refused {
    record Changed(RotationState next, String summary) implements Outcome {
    }

    record Refused(String reason) implements Outcome {
    }
}
