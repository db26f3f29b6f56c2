package dev.secretsencrypt.store;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Where the cluster's truth lives: etcd's endpoints and TLS files, the cluster token's source and this tool's own
 * prefix in etcd. Values only: {@link EtcdConnection} opens them.
 */
public record EtcdSettings(List<String> endpoints, Optional<Path> cacert, Optional<Path> cert, Optional<Path> key,
                           TokenSource token, StatePrefix statePrefix, Duration timeout) {
    public EtcdSettings {
        endpoints = List.copyOf(endpoints);
    }

    /**
     * Where the cluster token comes from, in this order: {@code --token} (or {@code SECRETS_ENCRYPT_TOKEN}), then
     * {@code --token-file}, then the data dir's {@code token}.
     */
    public record TokenSource(Optional<String> value, boolean valueFromEnvironment, Optional<Path> file,
                              Path defaultFile) {
    }
}
