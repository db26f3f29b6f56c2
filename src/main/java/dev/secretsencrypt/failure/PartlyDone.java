package dev.secretsencrypt.failure;

/**
 * The cluster state changed, but this server's own part of the step did not happen (its file could not be written):
 * the message says exactly what changed, what did not, and the command that completes it. Its own exit code (4), so
 * a runbook never reads it as "nothing was changed".
 */
public final class PartlyDone extends OperatorError {
    private static final long serialVersionUID = 1L;

    public PartlyDone(String message, Throwable cause) {
        super(message, cause);
    }
}
