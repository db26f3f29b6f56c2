package dev.secretsencrypt.testing;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.options.DeleteOption;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A real etcd cluster (1 or 3 members) on free loopback ports, in a temp dir, for tests.
 *
 * <pre>{@code
 * try (EtcdCluster etcd = EtcdCluster.start(3)) {
 *     etcd.client().getKVClient().put(key, value).get(10, TimeUnit.SECONDS);
 *     etcd.killMember(0);
 * }
 * }</pre>
 *
 * Tests that only need "an etcd" use {@link #shared()}: one single-member cluster per JVM, started on first use.
 * Each member's output goes to {@code <tempdir>/m<i>/etcd.log}; failures quote its tail.
 */
public final class EtcdCluster implements AutoCloseable, TestDatastore {

    public static final Duration HEALTH_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final int START_ATTEMPTS = 4;
    private static final int LOG_TAIL_LINES = 40;
    private static final String BIND_FAILURE = "address already in use";

    // Ports this JVM handed out: ServerSocket(0) can return a port again once the probe socket closes.
    private static final Set<Integer> PORTS_IN_USE = new HashSet<>();
    // Every live cluster, so a JVM exit (normal, SIGINT, SIGTERM) never leaves an etcd behind.
    private static final Set<EtcdCluster> LIVE = new HashSet<>();
    private static EtcdCluster shared;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(EtcdCluster::closeAllOnExit, "etcd-cluster-shutdown"));
    }

    private final Path binary;
    private final Path root;
    private final String token;
    private final List<Member> members;
    private final boolean isShared;
    private Client client;
    private volatile boolean closed;

    private EtcdCluster(Path binary, Path root, List<Member> members, boolean isShared) {
        this.binary = binary;
        this.root = root;
        this.token = "test-" + UUID.randomUUID();
        this.members = members;
        this.isShared = isShared;
    }

    /** Starts a fresh cluster of {@code members} (1 or 3) and waits until every member reports healthy. */
    public static EtcdCluster start(int members) {
        return start(members, false);
    }

    /** Starts a fresh cluster of {@code members} (1 or 3) with this etcd binary, whatever the suite runs on. */
    public static EtcdCluster start(int members, Path binary) {
        return start(binary, members, false);
    }

    /**
     * One single-member cluster per JVM, started on first call and stopped when the JVM exits.
     * Its {@link #close()} does nothing and its members cannot be stopped; tests sharing it should use
     * their own key prefix or call {@link #deleteAllKeys()} before each test.
     */
    public static synchronized EtcdCluster shared() {
        if (shared == null || shared.closed) {
            shared = start(1, true);
        }
        return shared;
    }

    private static EtcdCluster start(int size, boolean isShared) {
        return start(findBinary(), size, isShared);
    }

    private static EtcdCluster start(Path binary, int size, boolean isShared) {
        if (size != 1 && size != 3) {
            throw new IllegalArgumentException("an etcd test cluster has 1 or 3 members, not " + size);
        }
        IllegalStateException lastBindFailure = null;
        for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
            EtcdCluster cluster = create(binary, size, isShared);
            try {
                cluster.launchAll();
                cluster.awaitHealthy(HEALTH_TIMEOUT);
                return cluster;
            } catch (RuntimeException e) {
                boolean portTaken = cluster.anyLogMentions(BIND_FAILURE);
                cluster.closeNow();
                if (!portTaken) {
                    throw e;
                }
                // Another process grabbed a probed port between probe and etcd's bind: pick new ports.
                lastBindFailure = new IllegalStateException("etcd could not bind its ports on attempt " + attempt, e);
            }
        }
        throw lastBindFailure;
    }

    private static EtcdCluster create(Path binary, int size, boolean isShared) {
        Path root;
        try {
            root = Files.createTempDirectory("etcd-cluster-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a temp dir for etcd", e);
        }
        List<Member> members = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            members.add(new Member(i, root.resolve("m" + i), reservePort(), reservePort()));
        }
        EtcdCluster cluster = new EtcdCluster(binary, root, members, isShared);
        synchronized (EtcdCluster.class) {
            LIVE.add(cluster);
        }
        return cluster;
    }

    // ---- addresses and clients ----

    /** Client URLs, one per member, in member order: {@code http://127.0.0.1:<port>}. */
    public List<String> endpoints() {
        return members.stream().map(Member::clientUrl).toList();
    }

    public String endpoint(int member) {
        return member(member).clientUrl();
    }

    @Override
    public boolean multiKeyTransactions() {
        return true;
    }

    /** Client URLs joined with commas, as an {@code --endpoints} flag takes them. */
    @Override
    public String endpointsCsv() {
        return String.join(",", endpoints());
    }

    public int size() {
        return members.size();
    }

    /** One jetcd client over every member, created on first use and closed with the cluster. Do not close it. */
    @Override
    public synchronized Client client() {
        ensureOpen();
        if (client == null) {
            client = newClient(endpoints());
        }
        return client;
    }

    /** A new client that talks to {@code member} only; the caller closes it. */
    public Client clientFor(int member) {
        ensureOpen();
        return newClient(List.of(endpoint(member)));
    }

    /** A new client over the given endpoints; the caller closes it. */
    public static Client newClient(List<String> endpoints) {
        return Client.builder()
                .endpoints(endpoints.toArray(String[]::new))
                .connectTimeout(Duration.ofSeconds(5))
                .build();
    }

    /** Deletes every key, so a test on the shared cluster starts from an empty keyspace. */
    public void deleteAllKeys() {
        ByteSequence zero = ByteSequence.from(new byte[] {0});
        try {
            client().getKVClient()
                    .delete(zero, DeleteOption.builder().withRange(zero).build())
                    .get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("could not empty the test etcd at " + endpointsCsv(), e);
        }
    }

    // ---- member lifecycle ----

    /** Stops a member gracefully (SIGTERM), waiting up to 10 s before killing it. */
    public void stopMember(int i) {
        ensureMutable();
        member(i).stop(STOP_TIMEOUT);
    }

    /** Kills a member with SIGKILL, as a crash or power loss would. */
    public void killMember(int i) {
        ensureMutable();
        member(i).kill();
    }

    /** Restarts a stopped or killed member on its old ports and data dir, and waits until it is healthy. */
    public void startMember(int i) {
        ensureMutable();
        Member m = member(i);
        if (m.isRunning()) {
            throw new IllegalStateException("etcd member m" + i + " is already running");
        }
        launch(m, "existing");
        awaitHealthy(List.of(m), HEALTH_TIMEOUT);
    }

    /** Waits until every running member reports healthy, that is, has a leader and commits a read through raft; after a kill, a new one. */
    public void awaitHealthy() {
        ensureOpen();
        awaitHealthy(members.stream().filter(Member::isRunning).toList(), HEALTH_TIMEOUT);
    }

    public boolean isRunning(int i) {
        return member(i).isRunning();
    }

    /** The last lines of a member's log, for failure messages. */
    public String logTail(int i) {
        return member(i).logTail();
    }

    public Path dataDir(int i) {
        return member(i).dataDir();
    }

    /** Kills every member and deletes the temp dir. Does nothing on {@link #shared()}. */
    @Override
    public void close() {
        if (!isShared) {
            closeNow();
        }
    }

    // ---- internals ----

    private void launchAll() {
        for (Member m : members) {
            launch(m, "new");
        }
    }

    private void launch(Member m, String clusterState) {
        String initialCluster = members.stream()
                .map(x -> x.name() + "=" + x.peerUrl())
                .collect(Collectors.joining(","));
        List<String> command = List.of(
                binary.toString(),
                "--name", m.name(),
                "--data-dir", m.dataDir().toString(),
                "--listen-client-urls", m.clientUrl(),
                "--advertise-client-urls", m.clientUrl(),
                "--listen-peer-urls", m.peerUrl(),
                "--initial-advertise-peer-urls", m.peerUrl(),
                "--initial-cluster", initialCluster,
                "--initial-cluster-state", clusterState,
                "--initial-cluster-token", token,
                // Fast elections and small snapshots: a test cluster lives for seconds, on one machine.
                "--heartbeat-interval", "50",
                "--election-timeout", "500",
                "--snapshot-count", "5000",
                "--quota-backend-bytes", String.valueOf(4L << 30),
                "--logger", "zap",
                "--log-outputs", "stderr",
                "--log-level", "info");
        try {
            Files.createDirectories(m.home());
            ProcessBuilder pb = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(m.log().toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(Paths.get("/dev/null").toFile()));
            Process etcd = pb.start();
            m.started(etcd, watchdogFor(etcd, root));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + binary + " for etcd member " + m.name(), e);
        }
    }

    /**
     * A shell loop that SIGKILLs the member and deletes the temp dir if this JVM dies without running
     * shutdown hooks (SIGKILL, a surefire fork timeout); it exits on its own once the member is gone.
     */
    private static Process watchdogFor(Process member, Path root) {
        long jvm = ProcessHandle.current().pid();
        long etcd = member.pid();
        String dir = "'" + root.toString().replace("'", "'\\''") + "'";
        String script = "while kill -0 " + jvm + " 2>/dev/null && kill -0 " + etcd + " 2>/dev/null; do sleep 1; done; "
                + "kill -0 " + jvm + " 2>/dev/null || { kill -9 " + etcd + " 2>/dev/null; sleep 0.2; rm -rf " + dir + "; }; exit 0";
        try {
            return new ProcessBuilder("sh", "-c", script)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
        } catch (IOException e) {
            return null; // best effort: the shutdown hook still covers ordinary exits
        }
    }

    private void awaitHealthy(Duration timeout) {
        awaitHealthy(members, timeout);
    }

    private void awaitHealthy(List<Member> which, Duration timeout) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        List<Member> waiting = new ArrayList<>(which);
        java.util.concurrent.atomic.AtomicReference<String> lastAnswer = new java.util.concurrent.atomic.AtomicReference<>("");
        Await.until(timeout, "etcd members " + which.stream().map(Member::name).toList() + " healthy", () -> {
            for (Member w : waiting) {
                if (!w.isRunning()) {
                    throw new IllegalStateException("etcd member " + w.name() + " exited with status " + w.exitValue()
                            + " before becoming healthy; last lines of " + w.log() + ":\n" + w.logTail());
                }
            }
            while (!waiting.isEmpty()) {
                Optional<String> answer = health(http, waiting.get(0));
                if (answer.isEmpty() || !answer.get().contains("\"health\":\"true\"")) {
                    lastAnswer.set(answer.orElse("no answer"));
                    return Optional.empty();
                }
                waiting.remove(0);
            }
            return Optional.of(true);
        }, () -> waiting.isEmpty() ? "" : "last /health of " + waiting.get(0).name() + ": " + lastAnswer.get()
                + "; last lines of " + waiting.get(0).log() + ":\n" + waiting.get(0).logTail());
    }

    private static Optional<String> health(HttpClient http, Member m) {
        HttpRequest request = HttpRequest.newBuilder(URI.create(m.clientUrl() + "/health"))
                .timeout(Duration.ofSeconds(2))
                .GET()
                .build();
        try {
            return Optional.of(http.send(request, HttpResponse.BodyHandlers.ofString()).body());
        } catch (IOException e) {
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for etcd", e);
        }
    }

    private boolean anyLogMentions(String text) {
        return members.stream().anyMatch(m -> m.logTail().toLowerCase().contains(text));
    }

    // Takes the instance lock and the class lock one after the other, never nested: the shutdown hook
    // and shared() take them in opposite orders.
    private void closeNow() {
        Client open;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            open = client;
        }
        if (open != null) {
            try {
                open.close();
            } catch (RuntimeException ignored) {
                // the members are about to die anyway
            }
        }
        for (Member m : members) {
            m.kill();
        }
        synchronized (EtcdCluster.class) {
            LIVE.remove(this);
            for (Member m : members) {
                PORTS_IN_USE.remove(m.clientPort());
                PORTS_IN_USE.remove(m.peerPort());
            }
        }
        deleteRecursively(root);
    }

    private static void closeAllOnExit() {
        List<EtcdCluster> all;
        synchronized (EtcdCluster.class) {
            all = new ArrayList<>(LIVE);
        }
        for (EtcdCluster c : all) {
            c.closeNow();
        }
    }

    private Member member(int i) {
        if (i < 0 || i >= members.size()) {
            throw new IllegalArgumentException("no etcd member " + i + " in a cluster of " + members.size());
        }
        return members.get(i);
    }

    private void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("this etcd test cluster is closed");
        }
    }

    private void ensureMutable() {
        ensureOpen();
        if (isShared) {
            throw new IllegalStateException(
                    "the shared etcd serves every test in this JVM; start your own with EtcdCluster.start(n) to stop members");
        }
    }

    /** A free loopback port no other server of this JVM was given. */
    static synchronized int reservePort() {
        for (int tries = 0; tries < 100; tries++) {
            int port;
            try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = probe.getLocalPort();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot find a free loopback port for etcd", e);
            }
            if (PORTS_IN_USE.add(port)) {
                return port;
            }
        }
        throw new IllegalStateException("cannot find a free loopback port for etcd after 100 tries");
    }

    /** The etcd the suite runs on: {@code -Detcd.bin=…}, else $ETCD_BIN, else Debian's, else the first on PATH. */
    public static Path findBinary() {
        String fromProperty = System.getProperty("etcd.bin");
        if (fromProperty != null && !fromProperty.isBlank()) {
            return executable("-Detcd.bin", fromProperty);
        }
        String fromEnv = System.getenv("ETCD_BIN");
        if (fromEnv != null && !fromEnv.isBlank()) {
            return executable("ETCD_BIN", fromEnv);
        }
        Path debian = Paths.get("/usr/bin/etcd");
        if (Files.isExecutable(debian)) {
            return debian;
        }
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty()) {
                Path p = Paths.get(dir, "etcd");
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        throw new IllegalStateException("no etcd binary found (looked at -Detcd.bin, $ETCD_BIN, /usr/bin/etcd and PATH); "
                + "run the tests through scripts/test.sh, which installs etcd-server, or set ETCD_BIN");
    }

    private static Path executable(String setting, String value) {
        Path p = Paths.get(value);
        if (Files.isExecutable(p)) {
            return p;
        }
        throw new IllegalStateException(setting + "=" + value + " is not an executable file; "
                + "unset it or point it at an etcd binary (scripts/test.sh installs etcd-server)");
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // a leftover temp file is not worth failing a test for
                }
            });
        } catch (IOException | UncheckedIOException ignored) {
            // same
        }
    }

    /** One etcd member: fixed name, ports and data dir; the process changes across restarts. */
    private static final class Member {
        private final int index;
        private final Path home;
        private final int clientPort;
        private final int peerPort;
        private Process process;
        private Process watchdog;

        Member(int index, Path home, int clientPort, int peerPort) {
            this.index = index;
            this.home = home;
            this.clientPort = clientPort;
            this.peerPort = peerPort;
        }

        String name() { return "m" + index; }
        Path home() { return home; }
        Path dataDir() { return home.resolve("data"); }
        Path log() { return home.resolve("etcd.log"); }
        int clientPort() { return clientPort; }
        int peerPort() { return peerPort; }
        String clientUrl() { return "http://127.0.0.1:" + clientPort; }
        String peerUrl() { return "http://127.0.0.1:" + peerPort; }

        synchronized void started(Process etcd, Process watchdog) {
            this.process = etcd;
            this.watchdog = watchdog;
        }

        synchronized String exitValue() {
            return process == null || process.isAlive() ? "(running)" : String.valueOf(process.exitValue());
        }

        synchronized boolean isRunning() {
            return process != null && process.isAlive();
        }

        synchronized void stop(Duration timeout) {
            if (process == null) {
                return;
            }
            process.destroy();
            try {
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    kill();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                kill();
            }
            stopWatchdog();
        }

        synchronized void kill() {
            if (process == null) {
                return;
            }
            process.destroyForcibly();
            try {
                process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            stopWatchdog();
        }

        private void stopWatchdog() {
            if (watchdog != null) {
                watchdog.destroyForcibly();
                watchdog = null;
            }
        }

        String logTail() {
            try {
                if (!Files.exists(log())) {
                    return "(no log)";
                }
                List<String> lines = Files.readAllLines(log(), StandardCharsets.UTF_8);
                return String.join("\n", lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size()));
            } catch (IOException | UncheckedIOException e) {
                return "(log unreadable: " + e.getMessage() + ")";
            }
        }
    }
}
