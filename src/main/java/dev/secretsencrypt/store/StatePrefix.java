package dev.secretsencrypt.store;

import dev.secretsencrypt.failure.CommandRefused;

/**
 * Where this tool keeps its own state in etcd ({@code --state-prefix}, default {@code /secrets-encrypt/}), kept as
 * {@code /secrets-encrypt}. Not kube-apiserver's {@link EtcdPrefix}: the two never stand in for each other.
 */
public record StatePrefix(String value) {
    public StatePrefix {
        if (!value.startsWith("/") || value.endsWith("/") || value.length() < 2) {
            throw new IllegalArgumentException("not a normalised state prefix: " + value);
        }
    }

    /** From what an operator typed; a prefix with no name in it is refused. */
    public static StatePrefix of(String typed) {
        String trimmed = typed.trim().replaceAll("^/+|/+$", "");
        if (trimmed.isEmpty()) {
            throw new CommandRefused("the state prefix \"" + typed + "\" names no prefix: give the same --state-prefix "
                    + "on every server (default /secrets-encrypt/)");
        }
        return new StatePrefix("/" + trimmed);
    }

    /** {@code /secrets-encrypt/}: every key of the state. */
    public String asDirectory() {
        return value + "/";
    }

    /** {@code /secrets-encrypt}, as a data dir's membership record holds it. */
    @Override
    public String toString() {
        return value;
    }
}
