package dev.secretsencrypt.store;

import dev.secretsencrypt.config.BoundedFiles;
import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.failure.StateUnavailable;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.Consumer;
import javax.net.ssl.SSLException;

/** Opens what {@link EtcdSettings} describe: the etcd client and the cluster token. */
public final class EtcdConnection {
    private EtcdConnection() {
    }

    /** The cluster state in etcd, wrapped with the token; {@code warnings} hears what the operator should know. */
    public static EtcdState open(EtcdSettings s, Consumer<String> warnings) {
        char[] token = token(s.token(), warnings);
        return new EtcdState(connect(s), s.statePrefix(), token, String.join(",", s.endpoints()),
                s.timeout());
    }

    static Client connect(EtcdSettings s) {
        ClientBuilder builder = Client.builder()
                .endpoints(s.endpoints().stream().map(String::trim).toArray(String[]::new))
                .connectTimeout(s.timeout())
                .retryMaxDuration(s.timeout())
                .keepaliveTime(Duration.ofSeconds(30));
        if (s.cacert().isPresent() || s.cert().isPresent() || s.key().isPresent()) {
            if (s.cert().isPresent() != s.key().isPresent()) {
                throw new CommandRefused("--cert and --key go together: pass both, or neither");
            }
            try {
                builder.sslContext(ssl -> {
                    s.cacert().ifPresent(ca -> ssl.trustManager(ca.toFile()));
                    if (s.cert().isPresent()) {
                        ssl.keyManager(s.cert().get().toFile(), s.key().get().toFile());
                    }
                });
            } catch (SSLException | IllegalArgumentException e) {
                throw new CommandRefused("cannot use the etcd TLS files (--cacert/--cert/--key): "
                        + StateUnavailable.readable(String.valueOf(e.getMessage())));
            }
        }
        return builder.build();
    }

    /** --token (or SECRETS_ENCRYPT_TOKEN), then --token-file, then <data-dir>/token. */
    static char[] token(EtcdSettings.TokenSource t, Consumer<String> warnings) {
        if (t.value().isPresent() && !t.value().get().isBlank()) {
            if (!t.valueFromEnvironment()) {
                warnings.accept("warning: --token on the command line is visible to every user of this machine (ps, "
                        + "/proc/<pid>/cmdline): use --token-file (mode 600) or SECRETS_ENCRYPT_TOKEN");
            }
            return t.value().get().trim().toCharArray();
        }
        Path file = t.file().orElse(t.defaultFile());
        String source = t.file().isPresent() ? "the token file given with --token-file, " + file
                : "the default token file " + file;
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
