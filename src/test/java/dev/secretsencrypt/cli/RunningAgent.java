package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import dev.secretsencrypt.testing.Await;

/**
 * {@code secrets-encrypt agent} of one simulated server, in a JVM of its own (so a test can SIGKILL it), with the
 * clocks shortened by the hidden flags and /metrics on a free loopback port; keeps every line it logs.
 */
final class RunningAgent implements AutoCloseable {
    /** The report lease the agents run with: a killed agent's report must be stale within about this long. */
    static final Duration REPORT_LEASE = Duration.ofSeconds(4);
    private static final Pattern METRICS_AT = Pattern.compile("metrics on http://127\\.0\\.0\\.1:(\\d+)/metrics");
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    final String node;
    final Process process;
    private final List<String> lines = new ArrayList<>();
    private final Thread reader;

    private RunningAgent(String node, Process process) {
        this.node = node;
        this.process = process;
        this.reader = new Thread(this::readLines, "log-of-agent-" + node);
        reader.setDaemon(true);
        reader.start();
    }

    static RunningAgent start(SimulatedServers servers, String node, String... more) {
        List<String> command = new ArrayList<>(List.of("agent", "--report-lease-seconds",
                String.valueOf(REPORT_LEASE.toSeconds()), "--probe-interval-ms", "300", "--leader-recheck-ms", "1000",
                "--metrics-address", "127.0.0.1:0"));
        command.addAll(List.of(more));
        try {
            return new RunningAgent(node, servers.child(node, command.toArray(String[]::new)).redirectErrorStream(true)
                    .start());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void readLines() {
        try (BufferedReader in = process.inputReader(StandardCharsets.UTF_8)) {
            String line;
            while ((line = in.readLine()) != null) {
                synchronized (lines) {
                    lines.add(line);
                    lines.notifyAll();
                }
            }
        } catch (IOException gone) {
            // the process ended: what it printed is kept
        }
    }

    /** Everything it logged so far. */
    String log() {
        synchronized (lines) {
            return String.join("\n", lines) + "\n";
        }
    }

    /** The first line from {@code from} on that {@code wanted} accepts, waiting up to {@code within}. */
    int awaitLine(int from, Predicate<String> wanted, Duration within, String what) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        synchronized (lines) {
            while (true) {
                for (int i = from; i < lines.size(); i++) {
                    if (wanted.test(lines.get(i))) {
                        return i;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    fail(node + "'s agent did not log " + what + " within " + within.toSeconds() + " s; it logged:\n"
                            + log());
                }
                lines.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
        }
    }

    int awaitLine(Predicate<String> wanted, Duration within, String what) throws InterruptedException {
        return awaitLine(0, wanted, within, what);
    }

    /** How many lines it logged: a mark to wait for what comes after. */
    int mark() {
        synchronized (lines) {
            return lines.size();
        }
    }

    /** Whether a line from {@code from} on contains {@code text}. */
    boolean saidSince(int from, String text) {
        synchronized (lines) {
            return lines.subList(Math.min(from, lines.size()), lines.size()).stream().anyMatch(l -> l.contains(text));
        }
    }

    String line(int i) {
        synchronized (lines) {
            return lines.get(i);
        }
    }

    /** Leads now, by its own log: its last leadership line says it leads. */
    boolean leads() {
        synchronized (lines) {
            for (int i = lines.size() - 1; i >= 0; i--) {
                if (lines.get(i).contains(node + " leads the agents")) {
                    return process.isAlive();
                }
                if (lines.get(i).contains(node + " no longer leads")) {
                    return false;
                }
            }
            return false;
        }
    }

    int metricsPort() throws InterruptedException {
        int at = awaitLine(l -> METRICS_AT.matcher(l).find(), Duration.ofSeconds(60), "where it serves /metrics");
        Matcher m = METRICS_AT.matcher(line(at));
        if (!m.find()) {
            throw new AssertionError(line(at));
        }
        return Integer.parseInt(m.group(1));
    }

    /** GET of {@code path} on its metrics address: the status and the body. */
    HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + metricsPort() + path))
                .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The first answer of /healthz that {@code wanted} accepts, waiting at most {@code within}. */
    HttpResponse<String> awaitHealth(Predicate<HttpResponse<String>> wanted, Duration within, String what) {
        java.util.concurrent.atomic.AtomicReference<HttpResponse<String>> last = new java.util.concurrent.atomic.AtomicReference<>();
        return Await.until(within, node + "'s /healthz " + what, () -> {
            try {
                last.set(get("/healthz"));
            } catch (Exception notYet) {
                return Optional.empty();
            }
            return Optional.of(last.get()).filter(wanted);
        }, () -> (last.get() == null ? "-" : last.get().statusCode() + " " + last.get().body()) + "\n" + log());
    }

    /** SIGKILL: no shutdown hook runs, no lease is revoked. Returns the exit code. */
    int kill() throws InterruptedException {
        process.destroyForcibly();
        return exitCode();
    }

    /** SIGTERM, as systemctl stop sends it. Returns the exit code. */
    int terminate() throws InterruptedException {
        // through the handle: Process.destroy() also closes our end of its stdout, losing what it logs on the way out
        process.toHandle().destroy();
        return exitCode();
    }

    private int exitCode() throws InterruptedException {
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            fail(node + "'s agent did not exit within 30 s; it logged:\n" + log());
        }
        reader.join(5000);
        return process.exitValue();
    }

    Optional<Integer> exited() {
        return process.isAlive() ? Optional.empty() : Optional.of(process.exitValue());
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
