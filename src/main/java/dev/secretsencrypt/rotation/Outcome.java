package dev.secretsencrypt.rotation;

/**
 * What a rotation rule decides: a new state with what changed, the work already done (a retried command exits 0 and
 * says so), or a refusal that says what to do next.
 */
public sealed interface Outcome permits Outcome.Changed, Outcome.AlreadyDone, Outcome.Refused {
    /** {@code done} says what changed; {@code nextStep} what the operator does next, when a person runs the steps. */
    record Changed(RotationState next, String done, String nextStep) implements Outcome {
        public Changed(RotationState next, String done) {
            this(next, done, "");
        }

        /** What a single command prints: what changed, then what to do next. */
        public String summary() {
            return nextStep.isEmpty() ? done : done + "; " + nextStep;
        }
    }

    record AlreadyDone(String summary) implements Outcome {
    }

    record Refused(String reason) implements Outcome {
    }
}
