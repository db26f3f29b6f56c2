package dev.secretsencrypt.bench;

import static dev.secretsencrypt.bench.ReencryptBench.PREFIX;
import static dev.secretsencrypt.bench.ReencryptBench.ROUNDS;
import static dev.secretsencrypt.bench.ReencryptBench.WARMUP;
import static dev.secretsencrypt.bench.ReencryptBench.checkpointTo;
import static dev.secretsencrypt.bench.ReencryptBench.expect;
import static dev.secretsencrypt.bench.ReencryptBench.measure;
import static dev.secretsencrypt.bench.ReencryptBench.median;
import static dev.secretsencrypt.bench.ReencryptBench.mib;
import static dev.secretsencrypt.bench.ReencryptBench.report;
import static dev.secretsencrypt.bench.ReencryptBench.secret;
import static dev.secretsencrypt.bench.ReencryptBench.suffix;
import static dev.secretsencrypt.bench.ReencryptBench.targets;

import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.ProviderType;
import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.envelope.Envelopes;
import dev.secretsencrypt.reencrypt.Checkpoint;
import dev.secretsencrypt.reencrypt.PassSettings;
import dev.secretsencrypt.reencrypt.ScanResult;
import dev.secretsencrypt.reencrypt.StoredValues;
import dev.secretsencrypt.reencrypt.Summary;
import dev.secretsencrypt.reencrypt.Target;
import dev.secretsencrypt.store.EtcdConnection;
import dev.secretsencrypt.store.EtcdDatastore;
import dev.secretsencrypt.store.EtcdSettings;
import dev.secretsencrypt.store.StatePrefix;
import dev.secretsencrypt.store.ValueWrites;
import dev.secretsencrypt.testing.Kine;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code scripts/bench.sh --datastore kine-sqlite|kine-postgres|kine-mariadb [N]}: on a throw-away kine over SQLite,
 * PostgreSQL or MariaDB ({@link Kine}), N Secrets stored as kube-apiserver stores them, then the pass measured against
 * a reference that is not our code: kineload (scripts/e2e/kineload, Go, etcd's clientv3) writing the same values back
 * with the same single-key update transaction kine takes (If mod_revision==R Then put Else get). The loader first runs
 * at each concurrency level of {@code -Dkineload.concurrency}; then, in rounds, the pass and the loader at its best
 * level one after the other, so every ratio compares two runs on the same machine moments apart. The pass goes
 * through what the command uses: the datastore asked what it is, and the writes it takes (one key a transaction, a
 * bound in flight). The last line is {@code reencrypt/loader ratio: <x>}.
 */
public final class KineBench {
    /** K3s' secrets-encrypt re-encrypts through kube-apiserver, a get and an update per Secret (README). */
    private static final double K3S_API_PATH = 250;
    private static final String COMPACTED_AT = "/secrets-encrypt-bench/compacted-at";
    private static final Pattern LOADER_LINE = Pattern.compile(
            "kineload concurrency=(\\d+) values=(\\d+) seconds=([0-9.]+) rate=([0-9.]+) conflicts=(\\d+)"
                    + " refused=(\\d+)");
    private static final Pattern LOADER_READ = Pattern.compile("kineload read values=(\\d+) seconds=([0-9.]+)");

    private final Kine kine;
    private final KV kv;
    private final StoredValues values;
    private final ValueWrites writes;
    private final PassSettings settings = inFlight(PassSettings.defaults());
    private final Path loader;
    private final Key first = ReencryptBench.firstKey();
    private final Key second = ReencryptBench.secondKey();

    private KineBench(Kine kine, EtcdDatastore datastore, Path loader) {
        this.kine = kine;
        this.kv = datastore.kv();
        this.values = new StoredValues(datastore.kv(), datastore::valueWrites);
        this.writes = datastore.valueWrites();
        this.loader = loader;
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("slf4j.internal.verbosity", "ERROR"); // jetcd's "no SLF4J provider" notice is noise
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: KineBench sqlite|postgres|mariadb N (scripts/bench.sh runs it)");
        }
        Kine.Backend backend = Stream.of(Kine.Backend.values()).filter(b -> b.property().equals(args[0])).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("backend " + args[0]
                        + ": sqlite, postgres or mariadb"));
        int n = Integer.parseInt(args[1]);
        expect(n >= 1, "N must be a positive number of values, got " + n);
        Path loader = Path.of(Optional.ofNullable(System.getProperty("kineload.bin")).orElseThrow(() ->
                new IllegalStateException("-Dkineload.bin is not set: run this through scripts/bench.sh, which builds"
                        + " kineload with scripts/e2e-binaries.sh")));
        List<Integer> levels = Stream.of(System.getProperty("kineload.concurrency", "1,8,32,64").split(","))
                .map(String::trim).map(Integer::parseInt).toList();
        try (Kine kine = Kine.startOn(backend);
             EtcdDatastore datastore = EtcdConnection.open(settings(kine), warning -> { })) {
            System.out.printf(Locale.ROOT, "%s over %s, %d cores (%s), Java %s, max heap %d MiB%n",
                    version(Kine.findBinary()), describe(backend), Runtime.getRuntime().availableProcessors(),
                    loadAverage(), System.getProperty("java.version"), Runtime.getRuntime().maxMemory() >> 20);
            new KineBench(kine, datastore, loader).run(n, levels, backend);
        }
    }

    /**
     * The command's settings, or with fewer transactions in flight when {@code -Dreencrypt.inflight} asks (an
     * experiment: the pass then takes the lower of that and what the datastore allows).
     */
    private static PassSettings inFlight(PassSettings d) {
        String asked = System.getProperty("reencrypt.inflight", "");
        return asked.isEmpty() ? d : new PassSettings(d.pageSize(), d.maxBatchValues(), d.maxBatchBytes(), d.timeout(),
                d.rewriteAll(), Integer.parseInt(asked), d.datastore());
    }

    /** The tool's connection to this kine, as the command opens it (the token wraps state the bench never writes). */
    private static EtcdSettings settings(Kine kine) {
        return new EtcdSettings(List.of(kine.endpoint()), Optional.empty(), Optional.empty(), Optional.empty(),
                new EtcdSettings.TokenSource(Optional.of("bench"), true, Optional.empty(), Path.of("/nonexistent")),
                StatePrefix.of("/secrets-encrypt/"), Duration.ofSeconds(30));
    }

    private void run(int n, List<Integer> levels, Kine.Backend backend) throws Exception {
        expect(writes.datastore().equals("kine"), "the tool took this kine for " + writes.datastore());
        PassSettings used = settings.within(writes);
        System.out.printf(Locale.ROOT, "the tool's settings on %s: %d keys a page, %d value a transaction, %d"
                + " transactions in flight%s; %d rounds%n", writes.datastore(), used.pageSize(), used.maxBatchValues(),
                used.maxInFlight(), used.maxInFlight() == writes.transactionsInFlight() ? ""
                        : " (-Dreencrypt.inflight; the command uses " + writes.transactionsInFlight() + ")", ROUNDS);
        System.out.println("loader: " + loader + " (Go, go.etcd.io/etcd/client/v3; If mod_revision(key)==R Then"
                + " put(key, same value) Else get(key), values read beforehand, not timed)");

        // JIT warm-up of the pass on a prefix of its own, so no measured phase pays for compilation.
        seed("/warmup/secrets/", WARMUP, first);
        for (List<Target> warmup : List.of(targets("/warmup", second, first), targets("/warmup", first, second))) {
            values.pass(warmup, settings).run(Checkpoint.start(), checkpointTo(kv, null));
        }

        long seedStart = System.nanoTime();
        long bytes = seed(PREFIX + "/secrets/", n, first);
        System.out.printf(Locale.ROOT, "seeded %d Secrets (%.1f MiB stored, k8s\\0 protobuf 0.5-4 KiB, aescbc) under"
                + " %s/secrets/ with single-key creates in %.1f s%n", n, mib(bytes), PREFIX,
                (System.nanoTime() - seedStart) / 1e9);

        Map<Integer, Double> sweep = runLoader(levels).rates();
        compact();
        int best = sweep.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
        System.out.printf(Locale.ROOT, "loader's best concurrency: %d; the rounds compare the pass with it%n", best);

        double[] tool = new double[ROUNDS];
        double[] reference = new double[ROUNDS];
        double[] withRead = new double[ROUNDS];
        double[] seconds = new double[ROUNDS];
        Key under = first;
        for (int round = 0; round < ROUNDS; round++) {
            Key to = under == first ? second : first;
            List<Target> targets = targets(PREFIX, to, under);
            ReencryptBench.Phase pass = measure(() -> values.pass(targets, settings).run(Checkpoint.start(),
                    checkpointTo(kv, null)), false);
            Checkpoint done = pass.result().checkpoint();
            expect(done.rewritten() == n && done.failed() == 0, "the pass ended with " + done);
            tool[round] = report("(b) reencrypt, round " + (round + 1) + ": aescbc " + suffix(under) + " -> "
                    + suffix(to), n, bytes, pass);
            seconds[round] = pass.nanos() / 1e9;
            System.out.println("    " + Summary.of(done.rewritten(), done.unchanged(), done.failed(),
                    pass.result().elapsed()));
            compact();
            LoaderRun loaded = runLoader(List.of(best));
            reference[round] = loaded.rates().get(best);
            withRead[round] = n / (n / reference[round] + loaded.readSeconds());
            compact();
            under = to;
        }

        long scanStart = System.nanoTime();
        List<Target> current = targets(PREFIX, under, under);
        ScanResult scan = values.scan(current, settings, read -> { });
        expect(scan.countsByEnvelope().equals(Map.of("aescbc/" + under.name(), (long) n)), "verify found " + scan);
        System.out.printf(Locale.ROOT, "verify (read-only scan, opens every value): %s in %.2f s%n",
                scan.countsByEnvelope(), (System.nanoTime() - scanStart) / 1e9);

        double[] ratios = new double[ROUNDS];
        for (int round = 0; round < ROUNDS; round++) {
            ratios[round] = tool[round] / reference[round];
        }
        double toolRate = median(tool);
        String name = "kine " + backend.name().toLowerCase(Locale.ROOT);
        System.out.printf(Locale.ROOT, "%n== %s, N=%d (%.1f MiB), values/s; at the end: %s%n", name, n, mib(bytes),
                loadAverage());
        System.out.printf(Locale.ROOT, "%-44s %9s %9s %9s %9s%n", "", "round 1", "round 2", "round 3", "median");
        row("secrets-encrypt reencrypt (" + used.maxInFlight() + " in flight)", tool, "%9.0f");
        row("kineload at concurrency " + best, reference, "%9.0f");
        row("reencrypt/loader (same round)", ratios, "%9.2f");
        row("reencrypt wall time, s", seconds, "%9.2f");
        // the pass reads every value too; the loader's rate leaves its read out, this row puts it back in
        row("kineload incl. its paged read of the values", withRead, "%9.0f");
        System.out.printf(Locale.ROOT, "vs K3s' API path: %.0f / %.0f = %.1fx; %.0f Secrets/s is the documented figure"
                + " for K3s' secrets-encrypt (kube-apiserver, a get and an update per Secret, after its client"
                + " rate-limit fix), a reference NOT measured in this run: %d Secrets there take about %.0f s%n",
                toolRate, K3S_API_PATH, toolRate / K3S_API_PATH, K3S_API_PATH, n, n / K3S_API_PATH);
        System.out.printf(Locale.ROOT, "reencrypt/loader ratio: %.2f (goal >= 0.8)%n", median(ratios));
    }

    private static void row(String what, double[] perRound, String format) {
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-44s", what));
        for (double v : perRound) {
            line.append(' ').append(String.format(Locale.ROOT, format, v));
        }
        line.append(' ').append(String.format(Locale.ROOT, format, median(perRound)));
        System.out.println(line);
    }

    /** What one kineload run measured: values/s per concurrency level, and the seconds its read took. */
    private record LoaderRun(Map<Integer, Double> rates, double readSeconds) {
    }

    /** kineload over every value under the prefix, once per level; each line printed. */
    private LoaderRun runLoader(List<Integer> levels) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(loader.toString(), "-endpoint", kine.endpoint().replaceFirst("^http://", ""),
                "-prefix", PREFIX + "/secrets/", "-concurrency", String.join(",",
                levels.stream().map(String::valueOf).toList()))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Map<Integer, Double> rates = new LinkedHashMap<>();
        double readSeconds = Double.NaN;
        try (BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                Matcher m = LOADER_LINE.matcher(line);
                Matcher read = LOADER_READ.matcher(line);
                if (read.matches()) {
                    readSeconds = Double.parseDouble(read.group(2));
                    System.out.printf(Locale.ROOT, "    kineload read the %s values (paged as the pass reads them,"
                            + " not in its rate) in %.2f s%n", read.group(1), readSeconds);
                } else if (m.matches()) {
                    rates.put(Integer.parseInt(m.group(1)), Double.parseDouble(m.group(4)));
                    System.out.printf(Locale.ROOT, "(l) kineload, concurrency %-3s %34s %6s values in %5.2f s: %6.0f"
                            + " values/s%s%s%n", m.group(1), "", m.group(2), Double.parseDouble(m.group(3)),
                            Double.parseDouble(m.group(4)), m.group(5).equals("0") ? "" : ", " + m.group(5)
                                    + " compares failed on a changed key and were retried",
                            m.group(6).equals("0") ? "" : ", " + m.group(6) + " updates refused at an unchanged"
                                    + " revision (kine's failed insert) and retried");
                } else {
                    System.out.println("    " + line);
                }
            }
        }
        expect(p.waitFor() == 0 && rates.keySet().containsAll(levels), "kineload exited with " + p.exitValue()
                + " (its error is above)");
        return new LoaderRun(rates, readSeconds);
    }

    /** {@code count} values under {@code prefix}, sealed with {@code key}, in single-key creates; stored bytes. */
    private long seed(String prefix, int count, Key key) throws Exception {
        Envelope envelope = Envelopes.of(ProviderType.AESCBC, key);
        Random random = new Random(count);
        Semaphore inFlight = new Semaphore(writes.transactionsInFlight());
        List<CompletableFuture<?>> pending = new ArrayList<>();
        long bytes = 0;
        for (int i = 0; i < count; i++) {
            ReencryptBench.Secret s = secret(prefix, i, random, envelope);
            bytes += s.value().size();
            inFlight.acquire();
            pending.add(kv.txn().If(new Cmp(s.key(), Cmp.Op.EQUAL, CmpTarget.modRevision(0)))
                    .Then(Op.put(s.key(), s.value(), PutOption.DEFAULT)).commit()
                    .whenComplete((r, e) -> inFlight.release())
                    .thenAccept(r -> expect(r.isSucceeded(), "a seed key was there already")));
            pending.removeIf(f -> f.isDone() && !f.isCompletedExceptionally());
        }
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get(5, TimeUnit.MINUTES);
        compact();
        return bytes;
    }

    /**
     * Old revisions out of the way between phases, as kube-apiserver has kine compact every 5 minutes. kine checks the
     * target against a revision it caches, which concurrent writes can leave behind the newest one (a read answers
     * with that) until the next write: so one write first, and the compaction at its revision.
     */
    private void compact() throws Exception {
        long revision = kv.put(ByteSequence.from(COMPACTED_AT, StandardCharsets.UTF_8), ByteSequence.from(
                Long.toString(System.currentTimeMillis()), StandardCharsets.UTF_8)).get(30, TimeUnit.SECONDS)
                .getHeader().getRevision();
        kv.compact(revision).get(5, TimeUnit.MINUTES);
    }

    /** The machine's load averages (1, 5, 15 min): the rates are only comparable within a run on a shared machine. */
    private static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return "load average " + fields[0] + ", " + fields[1] + ", " + fields[2];
        } catch (IOException e) {
            return "load average unknown";
        }
    }

    /** kine's own version line, e.g. "kine version v0.17.5 (HEAD)". */
    private static String version(Path binary) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(binary.toString(), "--version").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).lines().findFirst()
                .orElse("kine (no version)");
        p.waitFor();
        return out + " " + binary;
    }

    private static String describe(Kine.Backend backend) throws IOException {
        if (backend == Kine.Backend.SQLITE) {
            return "SQLite (WAL, synchronous=NORMAL, as K3s runs it)";
        }
        if (backend == Kine.Backend.MARIADB) {
            return "MariaDB (Debian's; scripts/kine-mariadb.sh: local TCP, log flushed once a second, no doublewrite)";
        }
        // scripts/kine-postgres.sh runs the newest of Debian's servers
        String version;
        try (Stream<Path> dirs = Files.list(Path.of("/usr/lib/postgresql"))) {
            version = dirs.map(d -> d.getFileName().toString()).filter(d -> d.matches("\\d+"))
                    .max(Comparator.comparingInt(Integer::parseInt)).orElse("?");
        }
        return "PostgreSQL " + version + " (scripts/kine-postgres.sh: local TCP, fsync and synchronous_commit off)";
    }
}
