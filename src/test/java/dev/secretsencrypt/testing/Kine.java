package dev.secretsencrypt.testing;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * kine (K3s' etcd API over SQL) in a temp dir, on a free loopback port: over SQLite (K3s' default datastore, as a
 * single k3s server runs it) or over a PostgreSQL or MariaDB of its own (the external datastores of K3s HA). The binary
 * is {@code -Dkine.bin}, else $KINE_BIN, else the newest one scripts/e2e-binaries.sh built into
 * ~/.cache/secrets-encrypt-e2e.
 */
public final class Kine implements TestDatastore, AutoCloseable {
    private static final Duration READY = Duration.ofSeconds(30);

    /** The SQL database behind kine: K3s' default, or its external datastores. */
    public enum Backend {
        SQLITE(null), POSTGRES("scripts/kine-postgres.sh"), MARIADB("scripts/kine-mariadb.sh");

        /** What starts and stops a server of this database for kine; none for SQLite, a file kine opens itself. */
        private final String script;

        Backend(String script) {
            this.script = script;
        }

        /** As {@code -Dkine.backend} names it. */
        public String property() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final Path dir;
    private final int port;
    private Process process;
    private final Backend backend;
    private List<String> command = List.of();
    private Client client;

    private Kine(Path dir, int port, Process process, Backend backend) {
        this.dir = dir;
        this.port = port;
        this.process = process;
        this.backend = backend;
    }

    /** On the backend {@code -Dkine.backend} names (sqlite, the default, postgres or mariadb). */
    public static Kine start() {
        String name = System.getProperty("kine.backend", "sqlite");
        for (Backend b : Backend.values()) {
            if (b.property().equals(name)) {
                return startOn(b);
            }
        }
        throw new IllegalStateException("-Dkine.backend=" + name + ": sqlite, postgres or mariadb");
    }

    /** Starts kine on a fresh database of {@code backend} and waits until it answers a read. */
    public static Kine startOn(Backend backend) {
        Path binary = findBinary();
        try {
            Path dir = Files.createTempDirectory("kine-");
            int port = EtcdCluster.reservePort();
            String endpoint = backend == Backend.SQLITE
                    // the parameters K3s gives its SQLite (WAL, a busy timeout): kine's own default for a bare path
                    ? "sqlite://" + dir.resolve("state.db") + "?_journal_mode=WAL&_busy_timeout=30000"
                            + "&_synchronous=NORMAL&_txlock=immediate&cache=shared"
                    : server(backend, dir);
            List<String> command = List.of(binary.toString(), "--listen-address", "127.0.0.1:" + port,
                    "--metrics-bind-address", "0", "--endpoint", endpoint);
            Kine kine = new Kine(dir, port, launch(command, dir), backend);
            kine.command = command;
            kine.awaitReady();
            return kine;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start kine", e);
        }
    }

    /**
     * A PostgreSQL or MariaDB of Debian's package in {@code dir} (scripts/kine-postgres.sh, scripts/kine-mariadb.sh);
     * kine's endpoint for it.
     */
    private static String server(Backend backend, Path dir) throws IOException {
        Path log = dir.resolve(backend.property() + ".log");
        Process db = new ProcessBuilder(backend.script, "start", dir.toString(),
                String.valueOf(EtcdCluster.reservePort())).redirectError(log.toFile()).start();
        try {
            String endpoint = new String(db.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (db.waitFor() != 0 || endpoint.isEmpty()) {
                throw new IllegalStateException(backend + " did not start: " + Files.readString(log));
            }
            return endpoint;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting " + backend, e);
        }
    }

    private static Process launch(List<String> command, Path dir) throws IOException {
        return new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("kine.log").toFile())).start();
    }

    /** SIGKILL of kine alone (its database stays), as a crashed k3s server. */
    public synchronized void kill() throws InterruptedException {
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    /** kine again on the same port and database, after {@link #kill()}. */
    public synchronized void restart() throws IOException {
        process = launch(command, dir);
        awaitReady();
    }

    public Backend backend() {
        return backend;
    }

    private void awaitReady() {
        Await.until(READY, "kine on 127.0.0.1:" + port + " answering (log: " + dir.resolve("kine.log") + ")", () -> {
            if (!process.isAlive()) {
                throw new IllegalStateException("kine exited with " + process.exitValue() + ": " + logTail());
            }
            try {
                // kine writes /registry/health at its start
                return !client().getKVClient().get(ByteSequence.from("/registry/health", StandardCharsets.UTF_8))
                        .get(2, TimeUnit.SECONDS).getKvs().isEmpty();
            } catch (Exception notYet) {
                return false;
            }
        });
    }

    public String endpoint() {
        return "http://127.0.0.1:" + port;
    }

    @Override
    public String endpointsCsv() {
        return endpoint();
    }

    @Override
    public synchronized Client client() {
        if (client == null) {
            client = EtcdCluster.newClient(List.of(endpoint()));
        }
        return client;
    }

    @Override
    public boolean multiKeyTransactions() {
        return false;
    }

    public String logTail() {
        try {
            List<String> lines = Files.readAllLines(dir.resolve("kine.log"));
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public synchronized void close() {
        if (client != null) {
            client.close();
        }
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        if (backend.script != null) {
            try {
                new ProcessBuilder(backend.script, "stop", dir.toString()).redirectErrorStream(true)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).start().waitFor(30, TimeUnit.SECONDS);
            } catch (IOException | InterruptedException e) {
                // its data dir goes below; a server left running dies with the machine's next clean-up
            }
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // a temp dir left behind is harmless
        }
    }

    /** -Dkine.bin, else $KINE_BIN, else the newest kine-*&#47;kine under the e2e binaries' cache. */
    public static Path findBinary() {
        return locate().orElseThrow(() -> new IllegalStateException("no kine binary (looked at -Dkine.bin, $KINE_BIN "
                + "and ~/.cache/secrets-encrypt-e2e/kine-*/kine): run the tests through scripts/test.sh, which builds "
                + "it with scripts/e2e-binaries.sh"));
    }

    private static Optional<Path> locate() {
        for (String setting : new String[] {System.getProperty("kine.bin"), System.getenv("KINE_BIN")}) {
            if (setting != null && !setting.isBlank()) {
                Path p = Paths.get(setting);
                if (!Files.isExecutable(p)) {
                    throw new IllegalStateException(setting + " (kine.bin / KINE_BIN) is not an executable file");
                }
                return Optional.of(p);
            }
        }
        String cacheRoot = Optional.ofNullable(System.getenv("SECRETS_ENCRYPT_E2E_BIN_DIR"))
                .orElse(System.getProperty("user.home") + "/.cache/secrets-encrypt-e2e");
        try (Stream<Path> dirs = Files.list(Paths.get(cacheRoot))) {
            return dirs.filter(d -> d.getFileName().toString().startsWith("kine-")).map(d -> d.resolve("kine"))
                    .filter(Files::isExecutable).max(Comparator.comparing(Path::toString));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
