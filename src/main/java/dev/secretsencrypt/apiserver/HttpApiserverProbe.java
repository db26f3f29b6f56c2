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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalDouble;
import java.util.stream.Stream;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManagerFactory;

/**
 * Asks a kube-apiserver's own {@code /metrics} which encryption config it serves with, strongest evidence first:
 * <ol>
 * <li>{@code apiserver_encryption_config_controller_last_config_info{hash}} (1.34 and newer) names the digest;</li>
 * <li>else a successful automatic reload counted since this probe first saw that version of the file (1.28 to
 * 1.33: {@code ..._automatic_reloads_total{status}}, or before 1.30 {@code ..._automatic_reload_success_total});</li>
 * <li>else the process restarted since then ({@code process_start_time_seconds} changed): an apiserver without
 * automatic reload reads the file at start only.</li>
 * </ol>
 * Counters that moved, never timestamps against this machine's clock: a clock step, or an apiserver on another host,
 * would make an old reload look newer than the write. On those older releases a reload of an earlier file that ends
 * just after the first look at this one could still pass for it; rotate-keys and the agents never write a file before
 * every server loaded the previous one, which rules that out there.
 * A false "loaded" is the dangerous error (the tool would then rotate to a key some server cannot read), so every
 * doubt answers {@link LoadedConfig.NotYet} or {@link LoadedConfig.Unknown}.
 */
public final class HttpApiserverProbe implements ApiserverConfigProbe {
    /** For connecting and for the whole answer: a probe is repeated, a hung one must not stall the agent. */
    public static final Duration TIMEOUT = Duration.ofSeconds(5);


    /** A real /metrics is 1-10 MB; far more is not an apiserver's page, and is not read into memory. */
    static final int BODY_LIMIT = 64 * 1024 * 1024;

    static final String RELOAD_TIMESTAMP = "apiserver_encryption_config_controller_automatic_reload_last_timestamp_seconds";
    static final String RELOADS_TOTAL = "apiserver_encryption_config_controller_automatic_reloads_total";
    /** Before 1.30 (removed in 1.34): the counters without a status label. */
    static final String RELOAD_SUCCESS_TOTAL = "apiserver_encryption_config_controller_automatic_reload_success_total";
    static final String RELOAD_FAILURES_TOTAL = "apiserver_encryption_config_controller_automatic_reload_failures_total";
    static final String PROCESS_START = "process_start_time_seconds";

    private final ApiserverEndpoint endpoint;
    /** What the apiserver showed when each recent version of the file was first asked about (the last few). */
    private final Map<LoadedConfigHash, Observed> firstSeen = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<LoadedConfigHash, Observed> eldest) {
            return size() > 16;
        }
    };
    private Connection connection;

    /** The HTTP client for the TLS files as they were when it was built; rebuilt when any of them changes (renewal). */
    private record Connection(List<FileStamp> files, HttpClient http) {
    }

    private record FileStamp(Path file, long modifiedMillis, long size) {
    }

    /**
     * Reads the TLS files now, so a wrong path or a key that is not a key is refused at start-up.
     *
     * @throws CommandRefused naming the file and its option
     */
    public HttpApiserverProbe(ApiserverEndpoint endpoint) {
        this.endpoint = endpoint;
        this.connection = connect(stamps());
    }

    @Override
    public String describe() {
        return "kube-apiserver at " + endpoint.url();
    }

    @Override
    public LoadedConfig probe(ConfigFileSeen file) {
        HttpClient http;
        Optional<String> token;
        try {
            http = client();
            token = token();
        } catch (CommandRefused e) {
            return new LoadedConfig.Unknown(e.getMessage());
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
                    return new LoadedConfig.Unknown(describe() + " answered /metrics with more than "
                            + BODY_LIMIT / (1024 * 1024) + " MiB: check that --apiserver-url is kube-apiserver's address");
                }
                page = new String(bytes, StandardCharsets.UTF_8);
            }
        } catch (HttpConnectTimeoutException e) {
            return new LoadedConfig.Unknown("cannot connect to " + describe() + " within " + TIMEOUT.toSeconds()
                    + " s: check that it runs and that --apiserver-url is its address");
        } catch (HttpTimeoutException e) {
            return new LoadedConfig.Unknown(describe() + " did not answer GET /metrics within " + TIMEOUT.toSeconds()
                    + " s: it may be overloaded or starting; the next probe asks again");
        } catch (ConnectException e) {
            return new LoadedConfig.Unknown("cannot connect to " + describe() + " (connection refused): check that "
                    + "kube-apiserver runs and that --apiserver-url is its address and port");
        } catch (SSLException e) {
            return new LoadedConfig.Unknown("TLS with " + describe() + " failed (" + shortened(e.getMessage()) + "): give "
                    + "--apiserver-cacert with the CA that signed its serving certificate (e.g. /etc/kubernetes/pki/ca.crt), "
                    + "and a URL whose host its certificate names");
        } catch (IOException e) {
            return new LoadedConfig.Unknown("cannot read /metrics from " + describe() + ": " + shortened(e.getMessage())
                    + " (" + e.getClass().getSimpleName() + "); check that kube-apiserver runs");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new LoadedConfig.Unknown("interrupted while asking " + describe());
        }
        MetricsText metrics;
        try {
            metrics = MetricsText.parse(page);
        } catch (MetricsText.Malformed e) {
            return new LoadedConfig.Unknown(describe() + " answered /metrics that is not Prometheus text ("
                    + e.getMessage() + "): check that --apiserver-url is kube-apiserver's address");
        }
        Observed now = Observed.of(metrics);
        Observed before;
        synchronized (firstSeen) {
            before = firstSeen.computeIfAbsent(file.hash(), h -> now);
        }
        return judge(metrics, file, describe(), before);
    }

    /**
     * What the apiserver's counters stood at when this probe first saw a version of the file: the evidence that it
     * loaded that version is that they moved since (a reload counted, or the process restarted), never a comparison
     * of its timestamps with this machine's clock, which a step of either clock (or another host) would defeat.
     */
    record Observed(OptionalDouble started, double successes, double failures, boolean reloads) {
        static Observed of(MetricsText page) {
            OptionalDouble started = page.samples(PROCESS_START).stream().mapToDouble(MetricsText.Sample::value).min();
            double successes = sum(page, RELOADS_TOTAL, Map.of("status", "success")) + sum(page, RELOAD_SUCCESS_TOTAL,
                    Map.of());
            double failures = sum(page, RELOADS_TOTAL, Map.of("status", "failure")) + sum(page, RELOAD_FAILURES_TOTAL,
                    Map.of());
            boolean reloads = !page.samples(RELOAD_TIMESTAMP).isEmpty() || !page.samples(RELOADS_TOTAL).isEmpty()
                    || !page.samples(RELOAD_SUCCESS_TOTAL).isEmpty() || !page.samples(RELOAD_FAILURES_TOTAL).isEmpty();
            return new Observed(started, successes, failures, reloads);
        }

        boolean restartedSince(Observed before) {
            return started.isPresent() && before.started.isPresent() && started.getAsDouble() != before.started.getAsDouble();
        }
    }

    /**
     * What a page of metrics says about the file, given what the same apiserver showed when this version of the file
     * was first seen ({@code before}); pure, so every rule is a plain unit test.
     */
    static LoadedConfig judge(MetricsText page, ConfigFileSeen file, String where, Observed before) {
        List<LastConfigInfo> infos = LastConfigInfo.from(page);
        if (infos.size() > 1) {
            // one kube-apiserver exports one sample: several mean a merged page or a load balancer's mix
            return new LoadedConfig.Unknown(where + " answered " + infos.size() + " samples of " + LastConfigInfo.METRIC
                    + ": --apiserver-url must be this server's own kube-apiserver, not a load balancer or a proxy");
        }
        if (infos.size() == 1) {
            return new LoadedConfig.Loaded(infos.get(0).hash(), LoadedConfig.Evidence.LAST_CONFIG_INFO);
        }
        Observed now = Observed.of(page);
        String since = " since this file (written " + file.writtenAt() + ") was first seen";
        if (now.restartedSince(before)) {
            // it reads the file when it starts, and it started after this version was on disk
            return new LoadedConfig.Loaded(file.hash(), LoadedConfig.Evidence.STARTED_AFTER_WRITE);
        }
        if (now.reloads()) {
            if (now.failures() > before.failures() && now.successes() <= before.successes()) {
                return new LoadedConfig.NotYet(where + " failed to reload its encryption config" + since + " and "
                        + "serves with the previous one: see its log (journalctl -u kube-apiserver, or its static pod's "
                        + "log) for the reason, then fix the file");
            }
            if (now.successes() > before.successes()) {
                return new LoadedConfig.Loaded(file.hash(), LoadedConfig.Evidence.RELOADED_AFTER_WRITE);
            }
            return new LoadedConfig.NotYet(where + " has not reloaded its encryption config" + since + ": it polls the "
                    + "file about once a minute; wait for its next reload, or restart kube-apiserver on this server");
        }
        if (now.started().isPresent()) {
            return new LoadedConfig.NotYet(where + " has neither restarted nor reported an automatic reload" + since
                    + ": restart kube-apiserver on this server (or run it with "
                    + "--encryption-provider-config-automatic-reload)");
        }
        return new LoadedConfig.Unknown(where + " answered /metrics without " + LastConfigInfo.METRIC + ", the automatic "
                + "reload metrics or " + PROCESS_START + ": check that --apiserver-url is kube-apiserver's address");
    }

    private LoadedConfig refusedWith(int status) {
        String credentials = Stream.of(
                endpoint.tokenFile().map(f -> "the token in " + f),
                endpoint.clientCert().map(f -> "the client certificate " + f))
                .flatMap(Optional::stream).reduce((a, b) -> a + " and " + b).orElse("no credentials");
        if (status == 401) {
            return new LoadedConfig.Unknown(describe() + " answered 401 Unauthorized to GET /metrics with " + credentials
                    + ": give --apiserver-token-file with a valid service account token, or --apiserver-cert and "
                    + "--apiserver-key with a client certificate signed by its --client-ca-file");
        }
        if (status == 403) {
            return new LoadedConfig.Unknown(describe() + " answered 403 Forbidden to GET /metrics with " + credentials
                    + ": that identity may not read /metrics; bind it to the ClusterRole system:monitoring (or a role "
                    + "allowing get on the nonResourceURL /metrics)");
        }
        return new LoadedConfig.Unknown(describe() + " answered HTTP " + status + " to GET /metrics: check that "
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

    private static double sum(MetricsText page, String name, Map<String, String> labels) {
        return page.samples(name, labels).stream().mapToDouble(MetricsText.Sample::value).filter(Double::isFinite).sum();
    }

    private static String shortened(String message) {
        String m = String.valueOf(message).replaceAll("\\p{Cntrl}", " ");
        return m.length() <= 160 ? m : m.substring(0, 160) + "…";
    }
}
