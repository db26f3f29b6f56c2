package dev.secretsencrypt.store;

import dev.secretsencrypt.failure.CommandRefused;

/**
 * An etcd key prefix as kube-apiserver reads its {@code --etcd-prefix}: {@code registry}, {@code /registry/} and
 * {@code /registry} are one prefix, kept as {@code /registry}. The one place such a prefix is normalised.
 */
public record EtcdPrefix(String value) {
    public EtcdPrefix {
        if (!value.startsWith("/") || value.endsWith("/") || value.length() < 2) {
            throw new IllegalArgumentException("not a normalised etcd prefix: " + value);
        }
    }

    /** From what an operator typed; a prefix with no name in it is refused. */
    public static EtcdPrefix of(String typed) {
        String trimmed = typed.trim().replaceAll("^/+|/+$", "");
        if (trimmed.isEmpty()) {
            throw new CommandRefused("the etcd prefix \"" + typed + "\" names no prefix: give kube-apiserver's "
                    + "--etcd-prefix (default /registry)");
        }
        return new EtcdPrefix("/" + trimmed);
    }

    /** {@code /registry/secrets/}: the prefix of everything under {@code child}, never {@code /registry/secretsfoo}. */
    public String under(String child) {
        return value + "/" + child + "/";
    }

    /** {@code /registry/}: every key below this prefix. */
    public String asDirectory() {
        return value + "/";
    }

    @Override
    public String toString() {
        return value;
    }
}
