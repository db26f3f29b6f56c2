package dev.secretsencrypt.failure;

/** A command that would be unsafe or makes no sense now; nothing was changed. The message says what to do. */
public final class CommandRefused extends OperatorError {
    private static final long serialVersionUID = 1L;

    public CommandRefused(String message) {
        super(message);
    }
}
