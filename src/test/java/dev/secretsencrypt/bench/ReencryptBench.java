package dev.secretsencrypt.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.secretsencrypt.config.EncryptionConfig;
import dev.secretsencrypt.config.IdentityProvider;
import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.config.ProviderType;
import dev.secretsencrypt.config.ResourceRule;
import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.envelope.Envelopes;
import dev.secretsencrypt.reencrypt.Checkpoint;
import dev.secretsencrypt.reencrypt.Pass;
import dev.secretsencrypt.reencrypt.PassListener;
import dev.secretsencrypt.reencrypt.PassResult;
import dev.secretsencrypt.reencrypt.PassSettings;
import dev.secretsencrypt.reencrypt.Summary;
import dev.secretsencrypt.reencrypt.Scan;
import dev.secretsencrypt.reencrypt.ScanResult;
import dev.secretsencrypt.reencrypt.Target;
import dev.secretsencrypt.reencrypt.Targets;
import dev.secretsencrypt.testing.EtcdCluster;
import dev.secretsencrypt.store.EtcdPrefix;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.CompactOption;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.PutOption;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * {@code scripts/bench.sh [--datastore etcd] [N]}: on a throw-away etcd, N Secrets stored as kube-apiserver stores them (k8s\0 protobuf
 * bytes of 0.5-4 KiB, aescbc, 50 namespaces). Then, in rounds, (a) the ceiling: every value written back unchanged
 * through the same paging, batching and compare-and-swap; (b) the pass, re-encrypting every value to the other
 * key (old to new, then back, so each round has real work). Both checkpoint to etcd after every page, as the
 * command does. The ratio compares median rates, since a shared 2-core machine's fsyncs are noisy. Then the
 * pass at N and at 5N with the heap watched. The last line is {@code reencrypt/ceiling ratio: <x>}.
 */
public final class ReencryptBench {
    static final String PREFIX = "/registry";
    private static final String CHECKPOINT_KEY = "/secrets-encrypt/reencrypt/checkpoint";
    static final int NAMESPACES = 50;
    private static final int SEED_BATCH = 100;
    private static final int SEED_IN_FLIGHT = 8;
    static final int WARMUP = 3000;
    static final int ROUNDS = 3;
    // A full GC every this many pages in the memory runs, to see the live heap.
    private static final int GC_EVERY_PAGES = 5;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final KV kv;
    private final Key first;
    private final Key second;
    private final PassSettings settings = PassSettings.defaults();

    private ReencryptBench(KV kv) {
        this.kv = kv;
        this.first = firstKey();
        this.second = secondKey();
    }

    // Names of equal length, so values keep their size whichever key they are under.
    static Key firstKey() {
        return Key.generate("aescbckey-2026-01-01T00:00:00Z", bytes(new SecureRandom(), 32));
    }

    static Key secondKey() {
        return Key.generate("aescbckey-2026-11-22T10:54:38Z", bytes(new SecureRandom(), 32));
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("slf4j.internal.verbosity", "ERROR"); // jetcd's "no SLF4J provider" notice is noise
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 20000;
        if (n < 1) {
            throw new IllegalArgumentException("N must be a positive number of values, got " + n);
        }
        try (EtcdCluster etcd = EtcdCluster.start(1)) {
            Client client = etcd.client();
            String version = client.getMaintenanceClient().statusMember(etcd.endpoint(0)).get(10, TimeUnit.SECONDS)
                    .getVersion();
            System.out.printf(Locale.ROOT, "etcd %s (1 member, default --max-txn-ops 128 and --max-request-bytes"
                    + " 1.5 MiB), %d cores, Java %s, max heap %d MiB%n", version,
                    Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"),
                    Runtime.getRuntime().maxMemory() >> 20);
            new ReencryptBench(client.getKVClient()).run(n);
        }
    }

    private void run(int n) throws Exception {
        System.out.printf(Locale.ROOT, "settings: %d keys a page, %d values and %d KiB a transaction, %d rounds%n",
                settings.pageSize(), settings.maxBatchValues(), settings.maxBatchBytes() >> 10, ROUNDS);

        // JIT warm-up of both modes on a prefix of their own, so no measured phase pays for compilation.
        List<Target> warmup = targets("/warmup", second, first);
        seed("/warmup/secrets/", WARMUP, first);
        Pass.ceiling(kv, warmup, settings).run(Checkpoint.start(), checkpointTo(kv, null));
        new Pass(kv, warmup, settings).run(Checkpoint.start(), checkpointTo(kv, null));
        deleteAll("/warmup/");

        long seedStart = System.nanoTime();
        long bytes = seed(PREFIX + "/secrets/", n, first);
        System.out.printf(Locale.ROOT, "seeded %d Secrets (%.1f MiB stored, k8s\\0 protobuf 0.5-4 KiB, aescbc) under"
                + " %s/secrets/ in %d namespaces in %.1f s%n", n, mib(bytes), PREFIX, NAMESPACES,
                seconds(System.nanoTime() - seedStart));

        double[] ceilingRates = new double[ROUNDS];
        double[] passRates = new double[ROUNDS];
        Key under = first;
        for (int round = 0; round < ROUNDS; round++) {
            Key to = under == first ? second : first;
            List<Target> targets = targets(PREFIX, to, under);
            Phase ceiling = measure(() -> Pass.ceiling(kv, targets, settings).run(Checkpoint.start(),
                    checkpointTo(kv, null)), false);
            Checkpoint written = ceiling.result().checkpoint();
            expect(written.rewritten() == n, "the ceiling wrote " + written);
            ceilingRates[round] = report("(a) ceiling, round " + (round + 1) + ": same values written back unchanged",
                    n, bytes, ceiling);
            compact(kv);

            Phase pass = measure(() -> new Pass(kv, targets, settings).run(Checkpoint.start(),
                    checkpointTo(kv, null)), false);
            Checkpoint done = pass.result().checkpoint();
            expect(done.rewritten() == n && done.failed() == 0, "the pass ended with " + done);
            passRates[round] = report("(b) reencrypt, round " + (round + 1) + ": aescbc " + suffix(under) + " -> "
                    + suffix(to), n, bytes, pass);
            System.out.println("    " + Summary.of(done.rewritten(), done.unchanged(), done.failed(),
                    pass.result().elapsed()));
            compact(kv);
            under = to;
        }

        long scanStart = System.nanoTime();
        List<Target> current = targets(PREFIX, under, under);
        ScanResult scan = Scan.run(kv, current, settings.pageSize(), settings.timeout(), v -> { });
        expect(scan.countsByEnvelope().equals(Map.of("aescbc/" + under.name(), (long) n)), "verify found " + scan);
        System.out.printf(Locale.ROOT, "verify (read-only scan, opens every value): %s in %.2f s%n",
                scan.countsByEnvelope(), seconds(System.nanoTime() - scanStart));

        Heap atN = memoryRun(n);
        Heap at5N = memoryRun(5 * n);
        System.out.printf(Locale.ROOT, "heap high-water, pass at  N=%7d: %s%n", n, atN);
        System.out.printf(Locale.ROOT, "heap high-water, pass at 5N=%7d: %s%n", 5 * n, at5N);

        double ceiling = median(ceilingRates);
        double pass = median(passRates);
        System.out.printf(Locale.ROOT, "median rates: ceiling %.0f values/s (%.1f MiB/s), reencrypt %.0f values/s"
                + " (%.1f MiB/s)%n", ceiling, ceiling * mib(bytes) / n, pass, pass * mib(bytes) / n);
        System.out.printf(Locale.ROOT, "reencrypt/ceiling ratio: %.2f%n", pass / ceiling);
    }

    /** A fresh prefix of {@code values} Secrets re-encrypted once, with the heap watched. */
    private Heap memoryRun(int values) throws Exception {
        deleteAll(PREFIX + "/");
        long bytes = seed(PREFIX + "/secrets/", values, first);
        List<Target> targets = targets(PREFIX, second, first);
        MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
        long[] live = {0};
        int[] pages = {0};
        Phase run = measure(() -> new Pass(kv, targets, settings).run(Checkpoint.start(), checkpointTo(kv, c -> {
            if (++pages[0] % GC_EVERY_PAGES == 0) {
                System.gc();
                live[0] = Math.max(live[0], memory.getHeapMemoryUsage().getUsed());
            }
        })), true);
        expect(run.result().checkpoint().rewritten() == values, "the pass ended with " + run.result().checkpoint());
        report("(b) reencrypt with the heap watched (full GC every " + GC_EVERY_PAGES + " pages)", values, bytes, run);
        return new Heap(run.peakUsed(), live[0]);
    }

    static List<Target> targets(String prefix, Key writer, Key reader) {
        List<Key> keys = writer == reader ? List.of(writer) : List.of(writer, reader);
        EncryptionConfig config = EncryptionConfig.of(List.of(new ResourceRule(List.of("secrets"), List.of(
                new KeyedProvider(ProviderType.AESCBC, keys), new IdentityProvider()))));
        return Targets.resolve(config, EtcdPrefix.of(prefix), List.of(), List.of());
    }

    record Phase(PassResult result, long nanos, long peakUsed) {
    }

    /** Peak of the heap pools together, and the largest heap left after a full collection (the live set). */
    private record Heap(long peakUsed, long liveAfterGc) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "peak heap used %6.1f MiB, live heap after full GC at most %5.1f MiB",
                    mib(peakUsed), mib(liveAfterGc));
        }
    }

    @FunctionalInterface
    interface PassRun {
        PassResult run() throws Exception;
    }

    static Phase measure(PassRun run, boolean watchHeap) throws Exception {
        List<MemoryPoolMXBean> heap = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getType() == MemoryType.HEAP).toList();
        if (watchHeap) {
            System.gc();
            heap.forEach(MemoryPoolMXBean::resetPeakUsage);
        }
        long start = System.nanoTime();
        PassResult result = run.run();
        long nanos = System.nanoTime() - start;
        long peak = heap.stream().mapToLong(p -> p.getPeakUsage().getUsed()).sum();
        return new Phase(result, nanos, peak);
    }

    static double report(String what, long values, long bytes, Phase phase) {
        double s = seconds(phase.nanos());
        System.out.printf(Locale.ROOT, "%-66s %6d values in %5.2f s: %6.0f values/s, %5.1f MiB/s%n", what, values, s,
                values / s, mib(bytes) / s);
        return values / s;
    }

    /** As the command does: the checkpoint, as JSON, into etcd (or kine) after every page, with a plain put. */
    static PassListener checkpointTo(KV kv, PassListener also) {
        ByteSequence key = ByteSequence.from(CHECKPOINT_KEY, StandardCharsets.UTF_8);
        return c -> {
            kv.put(key, ByteSequence.from(JSON.writeValueAsBytes(c))).get(30, TimeUnit.SECONDS);
            if (also != null) {
                also.progress(c);
            }
        };
    }

    /** {@code count} values under {@code prefix}, sealed with {@code key}, in batched transactions; stored bytes. */
    private long seed(String prefix, int count, Key key) throws Exception {
        Envelope envelope = Envelopes.of(ProviderType.AESCBC, key);
        Random random = new Random(count);
        Semaphore inFlight = new Semaphore(SEED_IN_FLIGHT);
        List<CompletableFuture<?>> pending = new ArrayList<>();
        long bytes = 0;
        for (int from = 0; from < count; from += SEED_BATCH) {
            List<Op> puts = new ArrayList<>();
            for (int i = from; i < Math.min(count, from + SEED_BATCH); i++) {
                Secret secret = secret(prefix, i, random, envelope);
                bytes += secret.value().size();
                puts.add(Op.put(secret.key(), secret.value(), PutOption.DEFAULT));
            }
            inFlight.acquire();
            pending.add(kv.txn().Then(puts.toArray(Op[]::new)).commit().whenComplete((r, e) -> inFlight.release()));
            pending.removeIf(f -> f.isDone() && !f.isCompletedExceptionally());
        }
        CompletableFuture.allOf(pending.toArray(CompletableFuture[]::new)).get(5, TimeUnit.MINUTES);
        compact(kv);
        return bytes;
    }

    /** Secret {@code i} of a seeding, as kube-apiserver stores it: k8s\0 protobuf bytes of 0.5-4 KiB, sealed. */
    static Secret secret(String prefix, int i, Random random, Envelope envelope) {
        String etcdKey = String.format(Locale.ROOT, "%sns-%02d/secret-%07d", prefix, i % NAMESPACES, i);
        byte[] plaintext = new byte[512 + random.nextInt(4096 - 512 + 1)];
        random.nextBytes(plaintext);
        System.arraycopy("k8s\0".getBytes(StandardCharsets.ISO_8859_1), 0, plaintext, 0, 4);
        byte[] stored = envelope.seal(plaintext, etcdKey.getBytes(StandardCharsets.UTF_8));
        return new Secret(ByteSequence.from(etcdKey, StandardCharsets.UTF_8), ByteSequence.from(stored));
    }

    record Secret(ByteSequence key, ByteSequence value) {
    }

    private void deleteAll(String prefix) throws Exception {
        ByteSequence key = ByteSequence.from(prefix, StandardCharsets.UTF_8);
        kv.delete(key, DeleteOption.builder().isPrefix(true).build()).get(5, TimeUnit.MINUTES);
        compact(kv);
    }

    /** Old revisions out of the way, physically, so no phase shares the disk with a background compaction. */
    static void compact(KV kv) throws Exception {
        long revision = kv.get(ByteSequence.from("/", StandardCharsets.UTF_8)).get(30, TimeUnit.SECONDS)
                .getHeader().getRevision();
        kv.compact(revision, CompactOption.builder().withCompactPhysical(true).build()).get(5, TimeUnit.MINUTES);
    }

    static String suffix(Key key) {
        return key.name().substring("aescbckey-".length());
    }

    static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    static void expect(boolean condition, String failure) {
        if (!condition) {
            throw new IllegalStateException("benchmark check failed: " + failure);
        }
    }

    static byte[] bytes(SecureRandom random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    static double seconds(long nanos) {
        return nanos / 1e9;
    }

    static double mib(long bytes) {
        return bytes / (1024.0 * 1024.0);
    }
}
