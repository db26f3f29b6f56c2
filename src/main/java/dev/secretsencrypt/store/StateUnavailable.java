package dev.secretsencrypt.store;

/** The state cannot be read or written: unreachable etcd, wrong token, damaged file. The message says what to do. */
public final class StateUnavailable extends RuntimeException {
    public StateUnavailable(String message) {
        super(message);
    }

    public StateUnavailable(String message, Throwable cause) {
        super(message, cause);
    }
}
