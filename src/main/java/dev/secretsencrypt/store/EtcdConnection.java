package dev.secretsencrypt.store;

import dev.secretsencrypt.config.BoundedFiles;
import dev.secretsencrypt.config.OsReason;
import dev.secretsencrypt.config.PemFiles;
import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.failure.StateUnavailable;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import javax.net.ssl.SSLException;

/** Opens what {@link EtcdSettings} describe: the etcd client and the cluster token. */
public final class EtcdConnection {
    private EtcdConnection() {
    }

    /** The cluster's etcd, its state wrapped with the token; {@code warnings} hears what the operator should know. */
    public static EtcdDatastore open(EtcdSettings s, Consumer<String> warnings) {
        new StateKeys(s.statePrefix().asDirectory()).requireShort(Optional.empty());
        char[] token = token(s.token(), warnings);
        return new EtcdDatastore(connect(s), s.statePrefix(), token, String.join(",", s.endpoints()), s.timeout());
    }

    /**
     * As {@link #open(EtcdSettings, Consumer)} for the server {@code nodeName}, refusing first a name whose keys the
     * datastore would not keep as written: too long anywhere, or apart from another in case only where keys are
     * compared without case ({@link EtcdDatastore#requireKeysKeptApart}).
     */
    public static EtcdDatastore open(EtcdSettings s, String nodeName, Consumer<String> warnings) {
        new StateKeys(s.statePrefix().asDirectory()).requireShort(Optional.of(nodeName));
        EtcdDatastore datastore = open(s, warnings);
        try {
            datastore.requireKeysKeptApart(nodeName);
            return datastore;
        } catch (RuntimeException refused) {
            datastore.close();
            throw refused;
        }
    }

    static Client connect(EtcdSettings s) {
        boolean tlsFiles = s.cacert().isPresent() || s.cert().isPresent() || s.key().isPresent();
        if (s.endpoints().stream().anyMatch(UnixSocketBridge::isUnix)) {
            return throughUnixSocket(s, tlsFiles);
        }
        List<URI> endpoints = s.endpoints().stream().map(e -> endpoint(e, tlsFiles)).toList();
        Set<String> schemes = endpoints.stream().map(URI::getScheme).collect(Collectors.toSet());
        if (schemes.size() > 1) {
            throw new CommandRefused("--endpoints mixes http:// and https:// URLs: etcd serves one or the other, use "
                    + "the same scheme for every endpoint");
        }
        boolean tls = schemes.contains("https");
        if (!tls && tlsFiles) {
            throw new CommandRefused("--endpoints " + endpoints.get(0) + " is plaintext http, but TLS files were given "
                    + "(--cacert/--cert/--key): write the endpoints as https://, or drop the TLS files");
        }
        if (s.cert().isPresent() != s.key().isPresent()) {
            throw new CommandRefused("--cert and --key go together: pass both, or neither");
        }
        ClientBuilder builder = builder(endpoints, s.timeout());
        if (tls) {
            // read here, so a missing or unreadable file is named; netty then gets PKCS#8, whatever PEM form it was
            Optional<X509Certificate[]> ca = s.cacert().map(f -> certificates(f, "--cacert", "etcd CA certificate"));
            Optional<X509Certificate[]> chain = s.cert().map(f -> certificates(f, "--cert", "etcd client certificate"));
            Optional<PrivateKey> key = s.key().map(EtcdConnection::privateKey);
            try {
                builder.sslContext(ssl -> {
                    // without --cacert: the system's trusted CAs, as etcdctl does
                    ca.ifPresent(ssl::trustManager);
                    key.ifPresent(k -> ssl.keyManager(k, chain.orElseThrow()));
                });
            } catch (SSLException | IllegalArgumentException e) {
                throw new CommandRefused("cannot use the etcd TLS files (--cacert/--cert/--key): "
                        + StateUnavailable.readable(String.valueOf(e.getMessage())));
            }
        }
        return builder.build();
    }

    /**
     * kine's unix socket (a single k3s server's), through a loopback bridge only this process can use: jetcd dials TCP
     * only. Messages name the unix:// endpoint as given, never the bridge's port.
     */
    private static Client throughUnixSocket(EtcdSettings s, boolean tlsFiles) {
        String endpoint = s.endpoints().stream().filter(UnixSocketBridge::isUnix).findFirst().orElseThrow().trim();
        if (s.endpoints().size() > 1) {
            throw new CommandRefused("--endpoints gives the unix socket " + endpoint + " with other endpoints: a unix "
                    + "socket is the one kine of this server, give it alone");
        }
        if (tlsFiles) {
            throw new CommandRefused("--endpoints " + endpoint + " is kine's unix socket, which is plain (no TLS), but "
                    + "TLS files were given (--cacert/--cert/--key): drop the TLS files");
        }
        UnixSocketBridge bridge = UnixSocketBridge.open(endpoint);
        try {
            return bridge.closedWith(builder(List.of(bridge.target()), s.timeout()).build());
        } catch (RuntimeException e) {
            bridge.close();
            throw e;
        }
    }

    private static ClientBuilder builder(List<URI> endpoints, Duration timeout) {
        return Client.builder()
                .endpoints(endpoints.toArray(URI[]::new))
                .connectTimeout(timeout)
                .retryMaxDuration(timeout)
                .keepaliveTime(Duration.ofSeconds(30))
                // kine (like grpc-go's default) answers pings on an idle connection with GOAWAY too_many_pings
                .keepaliveWithoutCalls(false);
    }

    /** etcdctl's forms: a URL, or a bare host:port that is https when TLS files are given and http otherwise. */
    static URI endpoint(String text, boolean tlsFiles) {
        String trimmed = text.trim();
        String url = trimmed.contains("://") ? trimmed : (tlsFiles ? "https://" : "http://") + trimmed;
        try {
            URI uri = new URI(url);
            String scheme = String.valueOf(uri.getScheme()).toLowerCase(Locale.ROOT);
            if ((scheme.equals("http") || scheme.equals("https")) && uri.getHost() != null && uri.getPort() > 0) {
                return new URI(scheme, null, uri.getHost(), uri.getPort(), null, null, null);
            }
        } catch (URISyntaxException e) {
            // said below
        }
        throw new CommandRefused("'" + trimmed + "' is not an etcd endpoint: give https://host:port, http://host:port "
                + "or host:port, e.g. https://10.0.0.11:2379");
    }

    private static X509Certificate[] certificates(Path file, String option, String what) {
        return PemFiles.certificates(file, option, what);
    }

    /** Every PEM form etcdctl takes: PKCS#8, RSA PKCS#1 (kubeadm) and EC SEC1 (k3s, rke2). Never says a key byte. */
    static PrivateKey privateKey(Path file) {
        return PemFiles.privateKey(file, "--key", "--cert", "etcd client key");
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
        if (!Files.isRegularFile(file)) {
            // a device, FIFO or directory: its mode says nothing about who can read the token
            throw new CommandRefused("cannot read the token from " + file + ": it is not a regular file (a device, "
                    + "FIFO or directory); put the cluster token (the same on every server) in a file of its own, mode "
                    + "600, and give that");
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
            throw new CommandRefused("cannot read " + source + ": " + OsReason.of(e));
        }
    }
}
