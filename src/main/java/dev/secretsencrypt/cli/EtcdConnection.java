package dev.secretsencrypt.cli;

import dev.secretsencrypt.config.BoundedFiles;
import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.store.DataDir;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
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
            if (!o.token.equals(System.getenv("SECRETS_ENCRYPT_TOKEN"))) {
                o.warn("warning: --token on the command line is visible to every user of this machine (ps, "
                        + "/proc/<pid>/cmdline): use --token-file (mode 600) or SECRETS_ENCRYPT_TOKEN");
            }
            return o.token.trim().toCharArray();
        }
        boolean given = o.tokenFile != null;
        Path file = given ? o.tokenFile : o.dataDir.resolve("token");
        String source = given ? "the token file given with --token-file, " + file : "the default token file " + file;
        if (!Files.exists(file)) {
            throw new CommandRefused("no cluster token: " + source + " does not exist, and neither --token nor "
                    + "SECRETS_ENCRYPT_TOKEN is set. The state in etcd is wrapped with the token: put the cluster's token "
                    + "(the same on every server) in " + file + " (mode 600) or pass --token-file");
        }
        try {
            DataDir.requirePrivateToken(file);
            String text = new String(BoundedFiles.read(file, BoundedFiles.SMALL_LIMIT), StandardCharsets.UTF_8).trim();
            if (text.isEmpty()) {
                throw new CommandRefused(source + " is empty: put the cluster token in it");
            }
            return text.toCharArray();
        } catch (AccessDeniedException e) {
            throw new CommandRefused("cannot read " + source + ": permission denied. Run as root (or the user that "
                    + "owns it); do not loosen its mode, it must stay 600");
        } catch (IOException e) {
            throw new CommandRefused("cannot read " + source + ": " + e.getMessage());
        }
    }
}
