package dev.secretsencrypt.node;

/** A command that would be unsafe or makes no sense now; nothing was changed. The message says what to do. */
public final class CommandRefused extends RuntimeException {
    public CommandRefused(String message) {
        super(message);
    }
}
