package dev.secretsencrypt.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.secretsencrypt.apiserver.ApiserverIdentity;
import dev.secretsencrypt.testing.Pki;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.config.InvalidConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;

/**
 * A stand-in for one kube-apiserver's {@code /metrics}, for tests of the agent and the probe without the real binary:
 * HTTPS on loopback with a throwaway CA ({@link #caFile()}), the real exposition format and metric names (copied from
 * kube-apiserver v1.37.2's own page, see testdata/apiserver-metrics), and an encryption config file it "loads" as a
 * real one does:
 *
 * <pre>{@code
 * try (SimulatedApiserver api = SimulatedApiserver.start(dataDir.resolve("encryption-config.json"), Mode.LAST_CONFIG_INFO)) {
 *     api.setLag(Duration.ofSeconds(30));     // this one lags: it loads a change 30 s after it sees it
 *     ... --apiserver-url api.url() --apiserver-cacert api.caFile() ...
 *     api.setLag(Duration.ZERO);              // and catches up
 * }
 * }</pre>
 *
 * It polls the file every 200 ms; a change (by content, as kube-apiserver compares its sha256) is loaded {@code lag}
 * after it was first seen, if it is a valid EncryptionConfiguration, else counted as a failed reload, the previous
 * config kept. {@link Mode#RESTART_ONLY} loads only at {@link #restart()}. It runs under a host name of its own, which
 * names it as kube-apiserver's does ({@link ApiserverIdentity}: the {@code apiserver_id_hash} of its metrics and,
 * with {@link #renewIdentityLease}, the identity lease it renews in etcd every second).
 */
public final class SimulatedApiserver implements AutoCloseable {

    /** Which kube-apiserver releases it plays. */
    public enum Mode {
        /** 1.34 and newer with automatic reload: {@code last_config_info{hash}} plus the reload counters. */
        LAST_CONFIG_INFO,
        /** 1.30 to 1.33 with automatic reload: {@code automatic_reloads_total} and the reload timestamps, no hash. */
        RELOAD_COUNTERS,
        /** Without automatic reload: only {@code process_start_time_seconds}; a restart loads the file. */
        RESTART_ONLY
    }

    private static final Duration POLL = Duration.ofMillis(200);
    /** A real one polls once a minute; 2 s keeps tests quick while staying past the probe's 1 s clock margin. */
    public static final Duration DEFAULT_LAG = Duration.ofSeconds(2);
    /** The host name a simulated apiserver runs under unless told otherwise. */
    public static final String DEFAULT_HOST = "simulated";

    private final Path configFile;
    private final Mode mode;
    private final String hostname;
    private final String idHash;
    private final HttpsServer server;
    private final Path caFile;
    private final ScheduledExecutorService poller;

    // guarded by this
    // past the probe's 1 s clock margin: a reload sooner after the write is taken as possibly of the old bytes
    private volatile Duration lag = DEFAULT_LAG;
    private volatile Optional<String> requiredToken = Optional.empty();
    private Instant processStart;
    private Optional<String> loadedHash = Optional.empty();
    private Optional<String> seenHash = Optional.empty();
    private Instant seenAt;
    private boolean seenHandled = true;
    private long successes;
    private long failures;
    private Optional<Instant> lastSuccess = Optional.empty();
    private Optional<Instant> lastFailure = Optional.empty();
    private long requests;
    private Optional<KV> leaseStore = Optional.empty();
    private String leaseKey;
    private volatile Duration clockOffset = Duration.ZERO;

    private SimulatedApiserver(Path configFile, Mode mode, String hostname, HttpsServer server, Path caFile) {
        this.configFile = configFile;
        this.mode = mode;
        this.hostname = hostname;
        this.idHash = ApiserverIdentity.ofHostname(hostname).idHash();
        this.server = server;
        this.caFile = caFile;
        this.poller = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "simulated-apiserver-poll");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * For scripts/agents-demo.sh: {@code SimulatedApiserver MODE ETCD_URL LAG_SECONDS:HOST:CONFIG_FILE...} starts one
     * apiserver per file under that host name, renewing its identity lease in that etcd under /registry, prints
     * {@code CONFIG_FILE URL CA_FILE} for each, and serves until killed.
     */
    public static void main(String[] args) throws InterruptedException {
        Mode mode = Mode.valueOf(args[0]);
        io.etcd.jetcd.Client etcd = io.etcd.jetcd.Client.builder().endpoints(args[1]).build();
        for (int i = 2; i < args.length; i++) {
            String[] parts = args[i].split(":", 3);
            SimulatedApiserver api = start(Path.of(parts[2]), mode, parts[1]);
            api.setLag(Duration.ofSeconds(Long.parseLong(parts[0])));
            api.renewIdentityLease(etcd.getKVClient(), "/registry");
            System.out.println(parts[2] + " " + api.url() + " " + api.caFile());
        }
        System.out.flush();
        Thread.currentThread().join();
    }

    private static Pki.Issued sharedCa;

    private static synchronized Pki.Issued sharedCa() {
        if (sharedCa == null) {
            Instant now = Instant.now();
            sharedCa = Pki.ca("CN=simulated-apiserver-ca", now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(2)));
        }
        return sharedCa;
    }

    /** Starts serving now under {@link #DEFAULT_HOST}, having "loaded" the file as it is (none if it does not exist). */
    public static SimulatedApiserver start(Path configFile, Mode mode) {
        return start(configFile, mode, DEFAULT_HOST);
    }

    /** Starts serving now as the kube-apiserver of host {@code hostname}, having "loaded" the file as it is. */
    public static SimulatedApiserver start(Path configFile, Mode mode, String hostname) {
        try {
            Path pki = Files.createTempDirectory("simulated-apiserver-", PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
            Instant now = Instant.now();
            // one CA for every simulated apiserver of this JVM, as a cluster's apiservers share theirs: a client (or a
            // load balancer's client) trusts them all with one --apiserver-cacert
            Pki.Issued ca = sharedCa();
            Pki.Issued serving = Pki.leaf(ca, "CN=kube-apiserver", now.minus(Duration.ofHours(1)),
                    now.plus(Duration.ofDays(2)), "127.0.0.1", "localhost");
            Path caFile = pki.resolve("ca.crt");
            Files.writeString(caFile, ca.certPem());

            char[] password = "simulated".toCharArray();
            KeyStore keys = KeyStore.getInstance("PKCS12");
            keys.load(null, null);
            keys.setKeyEntry("serving", serving.keys().getPrivate(), password, new Certificate[] {serving.cert(), ca.cert()});
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(keys, password);
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(kmf.getKeyManagers(), null, null);

            HttpsServer server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
            server.setHttpsConfigurator(new HttpsConfigurator(tls));
            SimulatedApiserver api = new SimulatedApiserver(configFile, mode, hostname, server, caFile);
            server.createContext("/", api::handle);
            server.setExecutor(Executors.newFixedThreadPool(2, r -> {
                Thread t = new Thread(r, "simulated-apiserver-http");
                t.setDaemon(true);
                return t;
            }));
            api.restart();
            server.start();
            api.poller.scheduleWithFixedDelay(api::poll, 0, POLL.toMillis(), TimeUnit.MILLISECONDS);
            return api;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the simulated apiserver", e);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException("cannot make the simulated apiserver's TLS", e);
        }
    }

    /** {@code https://127.0.0.1:<port>}, as {@code --apiserver-url} takes it. */
    public URI url() {
        return URI.create("https://127.0.0.1:" + server.getAddress().getPort());
    }

    /** The CA certificate (PEM) that signed its serving certificate, as {@code --apiserver-cacert} takes it. */
    public Path caFile() {
        return caFile;
    }

    public Mode mode() {
        return mode;
    }

    /** Its identity, as the real one derives it from the host name it runs under. */
    public ApiserverIdentity identity() {
        return ApiserverIdentity.ofHostname(hostname);
    }

    /**
     * From now on it keeps its identity lease under {@code <etcdPrefix>/leases/kube-system/} renewed (every second;
     * the real one every 10 s), as kube-apiserver stores it; {@link #close()} deletes it, as a clean stop does, and
     * {@link #kill()} leaves it to go stale.
     */
    public SimulatedApiserver renewIdentityLease(KV kv, String etcdPrefix) {
        synchronized (this) {
            leaseStore = Optional.of(kv);
            leaseKey = etcdPrefix + "/leases/kube-system/" + identity().leaseName();
        }
        poller.scheduleWithFixedDelay(this::renewLease, 0, 1, TimeUnit.SECONDS);
        return this;
    }

    private void renewLease() {
        Optional<KV> kv;
        synchronized (this) {
            kv = leaseStore;
        }
        kv.ifPresent(k -> {
            try {
                k.put(ByteSequence.from(leaseKey, StandardCharsets.UTF_8),
                        ByteSequence.from(StoredLease.of(identity().leaseName(), hostname,
                                Instant.now().plus(clockOffset))))
                        .get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                // the next renewal tries again, as kube-apiserver's lease controller does
            }
        });
    }

    /** Its clock runs this far ahead (negative: behind) of this machine's: its lease's renew times say so. */
    public void setClockOffset(Duration offset) {
        this.clockOffset = offset;
    }

    /** As a SIGKILL: it stops answering and renewing at once; its identity lease stays until it goes stale. */
    public void kill() {
        synchronized (this) {
            leaseStore = Optional.empty();
        }
        close();
    }

    /**
     * How long after it sees a changed file it loads it (a real one: up to a minute; default {@link #DEFAULT_LAG});
     * takes effect at once. Under about 1 s, {@link Mode#RELOAD_COUNTERS} reloads are too close to the write to count.
     */
    public void setLag(Duration lag) {
        this.lag = lag;
    }

    /** From now on /metrics answers 401 unless the request carries {@code Authorization: Bearer <token>}. */
    public void requireToken(String token) {
        this.requiredToken = Optional.of(token);
    }

    /** A restart: a new process start time, counters back to zero, the file loaded as it is now. */
    public synchronized void restart() {
        processStart = Instant.now();
        successes = 0;
        failures = 0;
        lastSuccess = Optional.empty();
        lastFailure = Optional.empty();
        Optional<byte[]> bytes = read();
        seenHash = bytes.map(ConfigFiles::sha256Hex);
        seenAt = processStart;
        seenHandled = true;
        loadedHash = bytes.filter(SimulatedApiserver::valid).map(ConfigFiles::sha256Hex);
    }

    /** The sha256 (hex) of the config it serves with, if any. */
    public synchronized Optional<String> loadedSha256() {
        return loadedHash;
    }

    /** How many /metrics requests it answered 200. */
    public synchronized long metricsRequests() {
        return requests;
    }

    @Override
    public void close() {
        poller.shutdownNow();
        Optional<KV> kv;
        synchronized (this) {
            kv = leaseStore;
            leaseStore = Optional.empty();
        }
        // a clean stop deletes the identity lease, as kube-apiserver's lease controller does when it stops
        kv.ifPresent(k -> {
            try {
                k.delete(ByteSequence.from(leaseKey, StandardCharsets.UTF_8)).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                // it goes stale instead
            }
        });
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
        try {
            Files.deleteIfExists(caFile);
            Files.deleteIfExists(caFile.getParent());
        } catch (IOException e) {
            // a temp dir left behind is harmless
        }
    }

    // Sees a change of content, then after `lag` loads it (or counts a failure), as kube-apiserver's controller does.
    private synchronized void poll() {
        Optional<String> now = read().map(ConfigFiles::sha256Hex);
        if (!now.equals(seenHash)) {
            seenHash = now;
            seenAt = Instant.now();
            seenHandled = false;
        }
        if (seenHandled || mode == Mode.RESTART_ONLY || Duration.between(seenAt, Instant.now()).compareTo(lag) < 0) {
            return;
        }
        seenHandled = true;
        Optional<byte[]> bytes = read();
        if (bytes.isPresent() && !bytes.map(ConfigFiles::sha256Hex).equals(seenHash)) {
            seenHandled = false; // changed again in between: the next poll sees it
            return;
        }
        if (bytes.isPresent() && valid(bytes.get())) {
            if (!Optional.of(ConfigFiles.sha256Hex(bytes.get())).equals(loadedHash)) {
                loadedHash = Optional.of(ConfigFiles.sha256Hex(bytes.get()));
                successes++;
                lastSuccess = Optional.of(Instant.now());
            }
        } else {
            failures++;
            lastFailure = Optional.of(Instant.now());
        }
    }

    private Optional<byte[]> read() {
        try {
            return Optional.of(Files.readAllBytes(configFile));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static boolean valid(byte[] bytes) {
        try {
            ConfigFiles.parse(bytes, "the simulated apiserver's config");
            return true;
        } catch (InvalidConfig | RuntimeException e) {
            return false;
        }
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            Optional<String> token = requiredToken;
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            if (token.isPresent() && !("Bearer " + token.get()).equals(auth)) {
                reply(exchange, 401, "application/json", "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
                        + "\"status\":\"Failure\",\"message\":\"Unauthorized\",\"reason\":\"Unauthorized\",\"code\":401}\n");
                return;
            }
            if (!exchange.getRequestURI().getPath().equals("/metrics")) {
                reply(exchange, 404, "text/plain", "404 page not found\n");
                return;
            }
            String page;
            synchronized (this) {
                requests++;
                page = metrics();
            }
            reply(exchange, 200, "text/plain; version=0.0.4; charset=utf-8; escaping=underscores", page);
        }
    }

    private static void reply(HttpExchange exchange, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    // The page in kube-apiserver's order (families sorted by name), with a few unrelated families around ours.
    private String metrics() {
        StringBuilder m = new StringBuilder();
        m.append("""
                # HELP aggregator_discovery_aggregation_count_total [ALPHA] Counter of number of times discovery was aggregated
                # TYPE aggregator_discovery_aggregation_count_total counter
                aggregator_discovery_aggregation_count_total 3
                # HELP apiserver_audit_event_total [ALPHA] Counter of audit events generated and sent to the audit backend.
                # TYPE apiserver_audit_event_total counter
                apiserver_audit_event_total 0
                # HELP apiserver_client_certificate_expiration_seconds [ALPHA] Distribution of the remaining lifetime on the certificate used to authenticate a request.
                # TYPE apiserver_client_certificate_expiration_seconds histogram
                apiserver_client_certificate_expiration_seconds_bucket{le="0"} 0
                apiserver_client_certificate_expiration_seconds_bucket{le="1800"} 0
                apiserver_client_certificate_expiration_seconds_bucket{le="86400"} 0
                apiserver_client_certificate_expiration_seconds_bucket{le="172800"} 12
                apiserver_client_certificate_expiration_seconds_bucket{le="+Inf"} 12
                apiserver_client_certificate_expiration_seconds_sum 1.9837410853386e+06
                apiserver_client_certificate_expiration_seconds_count 12
                """);
        if (mode != Mode.RESTART_ONLY) {
            String help = "# HELP apiserver_encryption_config_controller_";
            String type = "# TYPE apiserver_encryption_config_controller_";
            String metric = "apiserver_encryption_config_controller_";
            if (lastSuccess.isPresent() || lastFailure.isPresent()) {
                m.append(help).append("automatic_reload_last_timestamp_seconds [ALPHA] Timestamp of the last successful or "
                        + "failed automatic reload of encryption configuration split by apiserver identity.\n");
                m.append(type).append("automatic_reload_last_timestamp_seconds gauge\n");
                lastFailure.ifPresent(t -> m.append(metric).append("automatic_reload_last_timestamp_seconds{apiserver_id_hash=\"")
                        .append(idHash).append("\",status=\"failure\"} ").append(goFloat(seconds(t))).append('\n'));
                lastSuccess.ifPresent(t -> m.append(metric).append("automatic_reload_last_timestamp_seconds{apiserver_id_hash=\"")
                        .append(idHash).append("\",status=\"success\"} ").append(goFloat(seconds(t))).append('\n'));
                m.append(help).append("automatic_reloads_total [ALPHA] Total number of reload successes and failures of "
                        + "encryption configuration split by apiserver identity.\n");
                m.append(type).append("automatic_reloads_total counter\n");
                if (failures > 0) {
                    m.append(metric).append("automatic_reloads_total{apiserver_id_hash=\"").append(idHash)
                            .append("\",status=\"failure\"} ").append(failures).append('\n');
                }
                if (successes > 0) {
                    m.append(metric).append("automatic_reloads_total{apiserver_id_hash=\"").append(idHash)
                            .append("\",status=\"success\"} ").append(successes).append('\n');
                }
            }
            if (mode == Mode.LAST_CONFIG_INFO && loadedHash.isPresent()) {
                m.append(help).append("last_config_info [ALPHA] Information about the last applied encryption "
                        + "configuration with hash as label, split by apiserver identity.\n");
                m.append(type).append("last_config_info gauge\n");
                m.append(metric).append("last_config_info{apiserver_id_hash=\"").append(idHash).append("\",hash=\"sha256:")
                        .append(loadedHash.get()).append("\"} 1\n");
            }
        }
        m.append("""
                # HELP go_goroutines Number of goroutines that currently exist.
                # TYPE go_goroutines gauge
                go_goroutines 1523
                # HELP go_info Information about the Go environment.
                # TYPE go_info gauge
                go_info{version="go1.25.5"} 1
                # HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.
                # TYPE process_cpu_seconds_total counter
                process_cpu_seconds_total 21.5
                # HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
                # TYPE process_start_time_seconds gauge
                """);
        m.append("process_start_time_seconds ").append(goFloat(seconds(processStart))).append('\n');
        m.append("""
                # HELP rest_client_requests_total [ALPHA] Number of HTTP requests, partitioned by status code, method, and host.
                # TYPE rest_client_requests_total counter
                rest_client_requests_total{code="200",host="[::1]:6443",method="GET"} 1140
                rest_client_requests_total{code="201",host="[::1]:6443",method="POST"} 121
                """);
        return m.toString();
    }

    private static double seconds(Instant t) {
        return t.getEpochSecond() + t.getNano() / 1e9;
    }

    /** Go's strconv.FormatFloat(f, 'g', -1, 64), which Prometheus' Go client writes: 12, 1e+06, 1.7960343335886095e+09. */
    static String goFloat(double v) {
        if (Double.isNaN(v)) {
            return "NaN";
        }
        if (Double.isInfinite(v)) {
            return v > 0 ? "+Inf" : "-Inf";
        }
        if (v == 0) {
            return "0";
        }
        BigDecimal d = new BigDecimal(Double.toString(v)).stripTrailingZeros();
        int exponent = d.precision() - d.scale() - 1;
        // shortest digits; exponent form below 1e-4 and from 1e6 on, as Go decides for precision -1
        if (exponent < -4 || exponent >= 6) {
            String digits = d.unscaledValue().abs().toString();
            String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            return (v < 0 ? "-" : "") + mantissa + "e" + (exponent < 0 ? "-" : "+")
                    + String.format("%02d", Math.abs(exponent));
        }
        return d.toPlainString();
    }
}
