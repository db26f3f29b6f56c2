package dev.secretsencrypt.certs;

import java.nio.file.Path;

/** Where a certificate was found: a file on this server, or one data key of a Secret stored in etcd. */
public sealed interface Location permits Location.File, Location.InSecret {
    /** {@code file} or {@code secret}: the {@code source} label of the expiration metric. */
    String source();

    /** How the operator finds it again: the path, or {@code namespace/name key}. */
    String where();

    /**
     * Control characters as {@code \xNN}: names read from etcd or a directory are data, and a name holding an escape
     * sequence must not drive the operator's terminal.
     */
    static String printable(String text) {
        StringBuilder out = new StringBuilder(text.length());
        text.codePoints().forEach(c -> {
            if (Character.isISOControl(c)) {
                out.append(String.format("\\x%02x", c));
            } else {
                out.appendCodePoint(c);
            }
        });
        return out.toString();
    }

    record File(Path path) implements Location {
        @Override
        public String source() {
            return "file";
        }

        @Override
        public String where() {
            return printable(path.toString());
        }
    }

    record InSecret(String namespace, String name, String key) implements Location {
        @Override
        public String source() {
            return "secret";
        }

        @Override
        public String where() {
            return printable(namespace + "/" + name + " " + key);
        }
    }
}
