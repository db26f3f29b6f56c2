package dev.secretsencrypt.cli;

import dev.secretsencrypt.node.CommandRefused;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Collections;
import java.util.EnumSet;
import java.time.Duration;
import javax.net.ssl.SSLException;

/** Builds the etcd client and reads the cluster token from the options. */
final class EtcdConnection {
    private EtcdConnection() {
    }

    static Client connect(NodeOptions o) {
        Duration timeout = Duration.ofSeconds(o.etcdTimeoutSeconds);
        ClientBuilder builder = Client.builder()
                .endpoints(o.endpoints.stream().map(String::trim).toArray(String[]::new))
                .connectTimeout(timeout)
                .retryMaxDuration(timeout)
                .keepaliveTime(Duration.ofSeconds(30));
        if (o.cacert != null || o.cert != null || o.key != null) {
            if ((o.cert == null) != (o.key == null)) {
                throw new CommandRefused("--cert and --key go together: pass both, or neither");
            }
            try {
                builder.sslContext(ssl -> {
                    if (o.cacert != null) {
                        ssl.trustManager(o.cacert.toFile());
                    }
                    if (o.cert != null) {
                        ssl.keyManager(o.cert.toFile(), o.key.toFile());
                    }
                });
            } catch (SSLException | IllegalArgumentException e) {
                throw new CommandRefused("cannot use the etcd TLS files (--cacert/--cert/--key): " + e.getMessage());
            }
        }
        return builder.build();
    }

    /** --token, then --token-file, then SECRETS_ENCRYPT_TOKEN (already in --token), then <data-dir>/token. */
    static char[] token(NodeOptions o) {
        if (o.token != null && !o.token.isBlank()) {
            return o.token.trim().toCharArray();
        }
        Path file = o.tokenFile != null ? o.tokenFile : o.dataDir.resolve("token");
        if (!Files.exists(file)) {
            throw new CommandRefused("no cluster token: the state in etcd is wrapped with it. Pass --token-file (the "
                    + "same token on every server), set SECRETS_ENCRYPT_TOKEN, or create " + file + " (mode 600)");
        }
        try {
            if (!Collections.disjoint(Files.getPosixFilePermissions(file), EnumSet.of(PosixFilePermission.GROUP_READ,
                    PosixFilePermission.OTHERS_READ))) {
                System.err.println("Warning: the token file " + file + " is readable by other users: chmod 600 " + file);
            }
            String text = Files.readString(file, StandardCharsets.UTF_8).trim();
            if (text.isEmpty()) {
                throw new CommandRefused("the token file " + file + " is empty: put the cluster token in it");
            }
            return text.toCharArray();
        } catch (IOException e) {
            throw new CommandRefused("cannot read the token file " + file + ": " + e.getMessage());
        }
    }
}
