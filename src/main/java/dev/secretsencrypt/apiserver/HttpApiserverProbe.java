package dev.secretsencrypt.apiserver;

import dev.secretsencrypt.config.BoundedFiles;
import dev.secretsencrypt.config.PemFiles;
import dev.secretsencrypt.failure.CommandRefused;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * Asks a kube-apiserver's own {@code /metrics} which encryption config it serves with, and which kube-apiserver it
 * is: {@code apiserver_encryption_config_controller_last_config_info{apiserver_id_hash, hash}} (1.34 and newer, also
 * without automatic reload) names both in one sample. An answer counts only when that identity is the one expected of
 * this server's kube-apiserver ({@link ApiserverIdentity}, derived from the host name it runs under): behind a load
 * balancer on 127.0.0.1, or at another server's address, any apiserver could answer, and its config is not this
 * server's. Older releases name neither reliably (their reload counters have no digest, and no identity until a first
 * reload), so they answer {@link LoadedConfig.Unknown}: their servers report with sync at each restart.
 * A false "loaded" is the dangerous error (the tool would then retire a key some server still writes with), so every
 * doubt answers {@link LoadedConfig.Unknown}.
 */
public final class HttpApiserverProbe implements ApiserverConfigProbe {
    /** For connecting and for the whole answer: a probe is repeated, a hung one must not stall the agent. */
    public static final Duration TIMEOUT = Duration.ofSeconds(5);

    /** A real /metrics is 1-10 MB; far more is not an apiserver's page, and is not read into memory. */
    static final int BODY_LIMIT = 64 * 1024 * 1024;

    static final String RELOADS_TOTAL = "apiserver_encryption_config_controller_automatic_reloads_total";
    /** Before 1.30 (removed in 1.34): the counters without a status label. */
    static final String RELOAD_SUCCESS_TOTAL = "apiserver_encryption_config_controller_automatic_reload_success_total";

    private final ApiserverEndpoint endpoint;
    private final ApiserverIdentity expected;
    private Connection connection;

    /** The HTTP client for the TLS files as they were when it was built; rebuilt when any of them changes (renewal). */
    private record Connection(List<FileStamp> files, HttpClient http) {
    }

    private record FileStamp(Path file, long modifiedMillis, long size) {
    }

    /**
     * Reads the TLS files now, so a wrong path or a key that is not a key is refused at start-up. {@code expected} is
     * the identity of this server's own kube-apiserver: only its answers count.
     *
     * @throws CommandRefused naming the file and its option
     */
    public HttpApiserverProbe(ApiserverEndpoint endpoint, ApiserverIdentity expected) {
        this.endpoint = endpoint;
        this.expected = expected;
        this.connection = connect(stamps());
    }

    @Override
    public String describe() {
        return "kube-apiserver at " + endpoint.url();
    }

    @Override
    public ApiserverIdentity expected() {
        return expected;
    }

    @Override
    public LoadedConfig probe() {
        HttpClient http;
        Optional<String> token;
        try {
            http = client();
            token = token();
        } catch (CommandRefused e) {
            return LoadedConfig.unknown(e.getMessage());
        }
        HttpRequest.Builder request = HttpRequest.newBuilder(endpoint.metricsUrl()).timeout(TIMEOUT).GET()
                // the classic text format: without it a newer apiserver may answer OpenMetrics or protobuf
                .header("Accept", "text/plain;version=0.0.4;q=1,*/*;q=0.1");
        token.ifPresent(t -> request.header("Authorization", "Bearer " + t));
        String page;
        try {
            HttpResponse<InputStream> response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            try (InputStream body = response.body()) {
                if (response.statusCode() != 200) {
                    return refusedWith(response.statusCode());
                }
                byte[] bytes = body.readNBytes(BODY_LIMIT + 1);
                if (bytes.length > BODY_LIMIT) {
                    return LoadedConfig.unknown(describe() + " answered /metrics with more than "
                            + BODY_LIMIT / (1024 * 1024) + " MiB: check that --apiserver-url is kube-apiserver's address");
                }
                page = new String(bytes, StandardCharsets.UTF_8);
            }
        } catch (HttpConnectTimeoutException e) {
            return LoadedConfig.unknown("cannot connect to " + describe() + " within " + TIMEOUT.toSeconds()
                    + " s: check that it runs and that --apiserver-url is its address");
        } catch (HttpTimeoutException e) {
            return LoadedConfig.unknown(describe() + " did not answer GET /metrics within " + TIMEOUT.toSeconds()
                    + " s: it may be overloaded or starting; the next probe asks again");
        } catch (ConnectException e) {
            return LoadedConfig.unknown("cannot connect to " + describe() + " (connection refused): check that "
                    + "kube-apiserver runs and that --apiserver-url is its address and port");
        } catch (SSLException e) {
            return LoadedConfig.unknown("TLS with " + describe() + " failed (" + shortened(e.getMessage()) + "): give "
                    + "--apiserver-cacert with the CA that signed its serving certificate (e.g. /etc/kubernetes/pki/ca.crt), "
                    + "and a URL whose host its certificate names");
        } catch (IOException e) {
            return LoadedConfig.unknown("cannot read /metrics from " + describe() + ": " + shortened(e.getMessage())
                    + " (" + e.getClass().getSimpleName() + "); check that kube-apiserver runs");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return LoadedConfig.unknown("interrupted while asking " + describe());
        }
        MetricsText metrics;
        try {
            metrics = MetricsText.parse(page);
        } catch (MetricsText.Malformed e) {
            return LoadedConfig.unknown(describe() + " answered /metrics that is not Prometheus text ("
                    + e.getMessage() + "): check that --apiserver-url is kube-apiserver's address");
        }
        return judge(metrics, describe(), expected);
    }

    /** What a page of metrics says: which config, and whether this server's own kube-apiserver said it. Pure. */
    static LoadedConfig judge(MetricsText page, String where, ApiserverIdentity expected) {
        List<LastConfigInfo> infos = LastConfigInfo.from(page);
        if (infos.size() > 1) {
            // one kube-apiserver exports one sample: several mean a merged page or a load balancer's mix
            return LoadedConfig.unknown(where + " answered " + infos.size() + " samples of " + LastConfigInfo.METRIC
                    + ": --apiserver-url must be this server's own kube-apiserver, not a load balancer or a proxy");
        }
        if (infos.isEmpty()) {
            boolean older = !page.samples(RELOADS_TOTAL).isEmpty() || !page.samples(RELOAD_SUCCESS_TOTAL).isEmpty()
                    || page.samples().stream().anyMatch(x -> x.name().startsWith("apiserver_"));
            return LoadedConfig.unknown(older
                    ? where + " does not export " + LastConfigInfo.METRIC + " (kube-apiserver before 1.34, or started "
                    + "without --encryption-provider-config): without it no answer says which config it loaded nor "
                    + "which apiserver gave it. Upgrade kube-apiserver to 1.34 or newer, or run the agent without "
                    + "--apiserver-url and let sync report at each kube-apiserver restart"
                    : where + " answered /metrics without kube-apiserver's metrics: check that --apiserver-url is "
                    + "kube-apiserver's address");
        }
        LastConfigInfo info = infos.get(0);
        if (info.apiserverIdHash().isEmpty()) {
            return LoadedConfig.unknown(where + " does not say which apiserver it is (an empty apiserver_id_hash: the "
                    + "APIServerIdentity feature gate is off), so its answer cannot be told from another server's: turn "
                    + "the gate back on, or run the agent without --apiserver-url and let sync report at each restart");
        }
        if (!expected.hashedAs(info.apiserverIdHash())) {
            return new LoadedConfig.Unknown(where + " answered as another kube-apiserver (apiserver_id_hash "
                    + info.apiserverIdHash() + "), not this server's (" + expected + ", " + expected.idHash() + ")",
                    Optional.of(info.apiserverIdHash()));
        }
        return new LoadedConfig.Loaded(info.hash(), expected);
    }

    private LoadedConfig refusedWith(int status) {
        String credentials = Stream.of(
                endpoint.tokenFile().map(f -> "the token in " + f),
                endpoint.clientCert().map(f -> "the client certificate " + f))
                .flatMap(Optional::stream).reduce((a, b) -> a + " and " + b).orElse("no credentials");
        if (status == 401) {
            return LoadedConfig.unknown(describe() + " answered 401 Unauthorized to GET /metrics with " + credentials
                    + ": give --apiserver-token-file with a valid service account token, or --apiserver-cert and "
                    + "--apiserver-key with a client certificate signed by its --client-ca-file");
        }
        if (status == 403) {
            return LoadedConfig.unknown(describe() + " answered 403 Forbidden to GET /metrics with " + credentials
                    + ": that identity may not read /metrics; bind it to the ClusterRole system:monitoring (or a role "
                    + "allowing get on the nonResourceURL /metrics)");
        }
        return LoadedConfig.unknown(describe() + " answered HTTP " + status + " to GET /metrics: check that "
                + "--apiserver-url is kube-apiserver's address");
    }

    // Read at each probe: a projected or rotated token file changes under a running agent.
    private Optional<String> token() {
        if (endpoint.tokenFile().isEmpty()) {
            return Optional.empty();
        }
        Path file = endpoint.tokenFile().get();
        try {
            String token = new String(BoundedFiles.read(file, BoundedFiles.SMALL_LIMIT), StandardCharsets.UTF_8).trim();
            if (token.isEmpty()) {
                throw new CommandRefused("the kube-apiserver token file " + file + " (--apiserver-token-file) is empty: "
                        + "put a bearer token in it");
            }
            if (token.chars().anyMatch(c -> c < 0x21 || c > 0x7e)) {
                throw new CommandRefused("the kube-apiserver token file " + file + " (--apiserver-token-file) holds more "
                        + "than one token (blanks or control characters): put the bearer token alone in it");
            }
            return Optional.of(token);
        } catch (NoSuchFileException e) {
            throw new CommandRefused("the kube-apiserver token file " + file + " (--apiserver-token-file): no such file");
        } catch (AccessDeniedException e) {
            throw new CommandRefused("cannot read the kube-apiserver token file " + file + " (--apiserver-token-file): "
                    + "permission denied. Run as root (or the user that owns it)");
        } catch (IOException e) {
            throw new CommandRefused("cannot read the kube-apiserver token file " + file + " (--apiserver-token-file): "
                    + e.getClass().getSimpleName());
        }
    }

    private synchronized HttpClient client() {
        List<FileStamp> now = stamps();
        if (!now.equals(connection.files())) {
            connection = connect(now);
        }
        return connection.http();
    }

    private List<FileStamp> stamps() {
        List<FileStamp> stamps = new ArrayList<>();
        Stream.of(endpoint.caCert(), endpoint.clientCert(), endpoint.clientKey()).flatMap(Optional::stream).forEach(f -> {
            try {
                stamps.add(new FileStamp(f, Files.getLastModifiedTime(f).toMillis(), Files.size(f)));
            } catch (IOException e) {
                stamps.add(new FileStamp(f, -1, -1)); // reading it says what is wrong
            }
        });
        return stamps;
    }

    private Connection connect(List<FileStamp> files) {
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER);
        if (endpoint.caCert().isPresent() || endpoint.clientCert().isPresent()) {
            builder.sslContext(tls());
        }
        return new Connection(files, builder.build());
    }

    private SSLContext tls() {
        try {
            TrustManagerFactory trust = null;
            if (endpoint.caCert().isPresent()) {
                KeyStore cas = KeyStore.getInstance("PKCS12");
                cas.load(null, null);
                X509Certificate[] certs = PemFiles.certificates(endpoint.caCert().get(), "--apiserver-cacert",
                        "kube-apiserver CA certificate");
                for (int i = 0; i < certs.length; i++) {
                    cas.setCertificateEntry("ca-" + i, certs[i]);
                }
                trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
                trust.init(cas);
            }
            KeyManagerFactory keys = null;
            if (endpoint.clientCert().isPresent()) {
                X509Certificate[] chain = PemFiles.certificates(endpoint.clientCert().get(), "--apiserver-cert",
                        "kube-apiserver client certificate");
                PrivateKey key = PemFiles.privateKey(endpoint.clientKey().orElseThrow(), "--apiserver-key",
                        "--apiserver-cert", "kube-apiserver client key");
                char[] inMemory = "in-memory".toCharArray(); // the store never leaves this method
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(null, null);
                store.setKeyEntry("client", key, inMemory, chain);
                keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                keys.init(store, inMemory);
            }
            SSLContext tls = SSLContext.getInstance("TLS");
            // a null manager means the JVM's default: its trusted CAs, no client certificate
            tls.init(keys == null ? null : keys.getKeyManagers(), trust == null ? null : trust.getTrustManagers(), null);
            return tls;
        } catch (GeneralSecurityException | IOException e) {
            throw new CommandRefused("cannot use the kube-apiserver TLS files (--apiserver-cacert/--apiserver-cert/"
                    + "--apiserver-key): " + e.getClass().getSimpleName() + "; check that the key belongs to the "
                    + "certificate");
        }
    }

    private static String shortened(String message) {
        String m = String.valueOf(message).replaceAll("\\p{Cntrl}", " ");
        return m.length() <= 160 ? m : m.substring(0, 160) + "…";
    }
}
