package dev.secretsencrypt.reencrypt;

import dev.secretsencrypt.store.EtcdRetry;
import dev.secretsencrypt.config.KeyRef;
import dev.secretsencrypt.envelope.Opened;
import dev.secretsencrypt.envelope.ProviderChain;
import dev.secretsencrypt.envelope.UnreadableValue;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.function.Consumer;

/**
 * Reads every value of the targets and counts them by the envelope that opens it; writes nothing. For
 * {@code verify}, and to decide which keys can be retired. Counting opens each value rather than matching
 * prefixes, because prefixes overlap: aescbc keys {@code a} and {@code a:b} both match a value written by
 * {@code a:b}, and only opening tells which one wrote it.
 */
public final class Scan {
    private static final int SLICE = 128;

    private Scan() {
    }

    /** {@code progress} is told the number of values read so far after every page. Runs on its own threads. */
    public static ScanResult run(KV kv, List<Target> targets, int pageSize, Duration timeout, Consumer<Long> progress) {
        return run(kv, targets, new PassSettings(pageSize, 1, 1, timeout, false), progress);
    }

    /** As above, paged and timed as {@code settings} say, its messages naming their datastore. */
    public static ScanResult run(KV kv, List<Target> targets, PassSettings settings, Consumer<Long> progress) {
        Map<String, Long> counts = new HashMap<>();
        Map<KeyRef, Long> perKey = new HashMap<>();
        Map<String, Long> notUnderWriter = new HashMap<>();
        Set<String> writers = new HashSet<>();
        List<String> unreadable = new ArrayList<>();
        List<String> onlyArchived = new ArrayList<>();
        long total = 0;
        long unreadableCount = 0;
        long onlyArchivedCount = 0;
        ExecutorService pool = Workers.start("scan");
        try {
            for (Target target : targets) {
                if (target.chain().whyNoWriter().isEmpty()) {
                    writers.add(target.chain().writer().description());
                }
                PageReader reader = new PageReader(kv, target.etcdPrefix(),
                        ByteSequence.from(target.etcdPrefix(), StandardCharsets.UTF_8), settings);
                boolean last = false;
                while (!last) {
                    PageReader.Page page = reader.next();
                    last = page.last();
                    List<CompletableFuture<Count>> slices = new ArrayList<>();
                    List<KeyValue> values = page.values();
                    for (int from = 0; from < values.size(); from += SLICE) {
                        List<KeyValue> slice = values.subList(from, Math.min(values.size(), from + SLICE));
                        slices.add(CompletableFuture.supplyAsync(() -> count(slice, target), pool));
                    }
                    for (CompletableFuture<Count> slice : slices) {
                        Count c = slice.get();
                        c.byEnvelope().forEach((envelope, n) -> counts.merge(envelope, n, Long::sum));
                        c.byKey().forEach((key, n) -> perKey.merge(key, n, Long::sum));
                        c.notUnderWriter().forEach((envelope, n) -> notUnderWriter.merge(envelope, n, Long::sum));
                        for (String key : c.unreadable()) {
                            if (unreadable.size() < Checkpoint.MAX_UNREADABLE) {
                                unreadable.add(key);
                            }
                        }
                        unreadableCount += c.unreadable().size();
                        for (String key : c.onlyArchived()) {
                            if (onlyArchived.size() < Checkpoint.MAX_UNREADABLE) {
                                onlyArchived.add(key);
                            }
                        }
                        onlyArchivedCount += c.onlyArchived().size();
                    }
                    total += values.size();
                    progress.accept(total);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("the scan was interrupted", e);
        } catch (ExecutionException e) {
            Throwable cause = EtcdRetry.unwrap(e);
            throw cause instanceof RuntimeException r ? r : new IllegalStateException(cause);
        } finally {
            pool.shutdownNow();
        }
        return new ScanResult(counts, perKey, total, unreadable, unreadableCount, onlyArchived, onlyArchivedCount,
                notUnderWriter, writers);
    }

    private record Count(Map<String, Long> byEnvelope, Map<KeyRef, Long> byKey, List<String> unreadable,
                         List<String> onlyArchived, Map<String, Long> notUnderWriter) {
    }

    private static Count count(List<KeyValue> slice, Target target) {
        ProviderChain chain = target.chain();
        Map<String, Long> byEnvelope = new HashMap<>();
        Map<KeyRef, Long> byKey = new HashMap<>();
        Map<String, Long> notUnderWriter = new HashMap<>();
        boolean writes = chain.whyNoWriter().isEmpty();
        List<String> unreadable = new ArrayList<>();
        List<String> onlyArchived = new ArrayList<>();
        for (KeyValue stored : slice) {
            try {
                Opened opened = chain.open(stored.getValue().getBytes(), stored.getKey().getBytes());
                byEnvelope.merge(opened.by().description(), 1L, Long::sum);
                opened.by().key().ifPresent(k -> byKey.merge(k, 1L, Long::sum));
                if (writes && opened.stale()) {
                    notUnderWriter.merge(opened.by().description(), 1L, Long::sum);
                }
                if (opened.by().key().filter(target.archivedKeys()::contains).isPresent()) {
                    onlyArchived.add(UnreadableValue.printable(stored.getKey().getBytes()));
                }
            } catch (UnreadableValue e) {
                unreadable.add(e.etcdKey());
            }
        }
        return new Count(byEnvelope, byKey, unreadable, onlyArchived, notUnderWriter);
    }
}
