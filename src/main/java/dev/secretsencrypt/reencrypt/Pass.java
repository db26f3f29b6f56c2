package dev.secretsencrypt.reencrypt;

import dev.secretsencrypt.store.EtcdRetry;
import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.envelope.ProviderChain;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * The re-encryption pass: pages through each target's prefix in key order, leaves values already under the
 * writer alone, opens the rest and seals them with the writer, and writes them back with compare-and-swap on
 * each key's mod_revision, directly in etcd and byte-compatible with kube-apiserver.
 *
 * <p>Work overlaps: the next page is read while the current one is worked on, a page's transactions are all in
 * flight at once, up to {@value #PAGES_IN_FLIGHT} pages are written at a time, and the crypto runs on one
 * thread per core. Memory is bounded by those few pages, whatever the number of values. The listener still
 * sees pages strictly in key order.
 *
 * <p>A pass starts its worker threads in {@link #run} and stops them before returning; nothing to close.
 */
public final class Pass {
    // Pages whose transactions may be in flight together; more buys nothing once etcd's disk is the limit.
    private static final int PAGES_IN_FLIGHT = 3;

    private final KV kv;
    private final List<Target> targets;
    private final PassSettings settings;
    private final Function<ProviderChain, ValuePolicy> policies;

    public Pass(KV kv, List<Target> targets, PassSettings settings) {
        this(kv, targets, settings, chain -> ValuePolicy.reencrypt(chain, settings.rewriteAll()));
        // Refuse before touching anything when a chain cannot write (a KMS provider first).
        targets.forEach(t -> t.chain().whyNoWriter().ifPresent(why -> {
            throw new CommandRefused(why);
        }));
    }

    private Pass(KV kv, List<Target> targets, PassSettings settings, Function<ProviderChain, ValuePolicy> policies) {
        this.kv = Objects.requireNonNull(kv, "kv");
        this.targets = List.copyOf(targets);
        this.settings = Objects.requireNonNull(settings, "settings");
        this.policies = policies;
    }

    /**
     * The benchmark's ceiling: every value written back byte-identical through exactly the same paging,
     * batching, compare-and-swap and transactions as a pass, skipping only open and seal.
     */
    public static Pass ceiling(KV kv, List<Target> targets, PassSettings settings) {
        return new Pass(kv, targets, settings, chain -> ValuePolicy.writeBackUnchanged());
    }

    /**
     * Runs from {@code from} ({@link Checkpoint#start()} or a stored checkpoint) to the end of every target.
     * Throws whatever the listener throws, at once; an etcd that stays unreachable ends it with an
     * StateUnavailable. Either way every checkpoint already reported stays valid to resume from.
     */
    public PassResult run(Checkpoint from, PassListener listener) throws Exception {
        long started = System.nanoTime();
        Progress progress = new Progress(from);
        AtomicBoolean stopped = new AtomicBoolean();
        ExecutorService pool = Workers.start("reencrypt");
        try {
            if (from.lastKeyDone().isEmpty()) {
                progress.total(countAll());
            }
            CasWriter writer = new CasWriter(kv, settings, pool, stopped);
            for (Target target : targets) {
                if (!progress.finished(target)) {
                    PageWork work = new PageWork(policies.apply(target.chain()), writer, pool,
                            settings.maxBatchValues());
                    runTarget(target, work, progress, listener);
                }
            }
            Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
            return new PassResult(progress.snapshot(), progress.remaining(), elapsed);
        } catch (Exception | Error e) {
            stopped.set(true); // no new transaction, no retry: in-flight ones are CAS-guarded and harmless
            throw e;
        } finally {
            pool.shutdownNow();
        }
    }

    private record PageInFlight(CompletableFuture<Tally> tally, int values, Optional<String> lastKey, boolean last) {
    }

    private void runTarget(Target target, PageWork work, Progress progress, PassListener listener) throws Exception {
        PageReader reader = new PageReader(kv, target.etcdPrefix(), progress.startOf(target), settings);
        Deque<PageInFlight> window = new ArrayDeque<>();
        boolean last = false;
        while (!last) {
            PageReader.Page page = reader.next();
            last = page.last();
            List<KeyValue> values = page.values();
            window.add(new PageInFlight(work.start(values), values.size(), lastText(values), last));
            while (window.size() >= PAGES_IN_FLIGHT || (last && !window.isEmpty())) {
                retire(target, window.poll(), progress, listener);
            }
        }
    }

    /** Waits for the oldest page; only then may the checkpoint move past it (a low-water mark). */
    private static void retire(Target target, PageInFlight page, Progress progress, PassListener listener)
            throws Exception {
        Tally tally;
        try {
            tally = page.tally().get();
        } catch (ExecutionException e) {
            Throwable cause = EtcdRetry.unwrap(e);
            if (cause instanceof Exception checked) {
                throw checked;
            }
            throw e;
        }
        progress.add(tally, page.values());
        if (page.last()) {
            progress.finish(target.etcdPrefix());
        } else {
            progress.advance(target.etcdPrefix(), page.lastKey().orElse(null));
        }
        listener.progress(progress.snapshot());
    }

    /** The last key of the page that survives a trip through checkpoint text (all of them, in Kubernetes). */
    private static Optional<String> lastText(List<KeyValue> values) {
        for (int i = values.size() - 1; i >= 0; i--) {
            Optional<String> text = KeyRange.asText(values.get(i).getKey());
            if (text.isPresent()) {
                return text;
            }
        }
        return Optional.empty();
    }

    private long countAll() throws InterruptedException {
        long total = 0;
        for (Target target : targets) {
            total += PageReader.count(kv, target.etcdPrefix(), settings);
        }
        return total;
    }
}
