package dev.secretsencrypt.certs;

import java.nio.file.Path;

/** Where a certificate was found: a file on this server, or one data key of a Secret stored in etcd. */
public sealed interface Location permits Location.File, Location.InSecret {
    /** {@code file} or {@code secret}: the {@code source} label of the expiration metric. */
    String source();

    /** How the operator finds it again: the path, or {@code namespace/name key}. */
    String where();

    record File(Path path) implements Location {
        @Override
        public String source() {
            return "file";
        }

        @Override
        public String where() {
            return path.toString();
        }
    }

    record InSecret(String namespace, String name, String key) implements Location {
        @Override
        public String source() {
            return "secret";
        }

        @Override
        public String where() {
            return namespace + "/" + name + " " + key;
        }
    }
}
