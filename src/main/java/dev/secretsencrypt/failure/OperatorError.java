package dev.secretsencrypt.failure;

/**
 * The one type of error an operator meets: a refusal or a state that cannot be reached, whose message says what
 * happened and what to do next. The CLI turns it into {@code Error: <message>} and exit code 1 in one place. A
 * programming error is never one of these.
 */
public abstract sealed class OperatorError extends RuntimeException
        permits CommandRefused, StateUnavailable, ChangedConcurrently, AlreadyRunning, PartlyDone {
    private static final long serialVersionUID = 1L;

    protected OperatorError(String message) {
        super(message);
    }

    protected OperatorError(String message, Throwable cause) {
        super(message, cause);
    }
}
