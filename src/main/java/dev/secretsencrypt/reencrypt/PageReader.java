package dev.secretsencrypt.reencrypt;

import dev.secretsencrypt.store.EtcdRetry;
import dev.secretsencrypt.failure.StateUnavailable;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Reads one prefix page by page in key order, always one page ahead: the next range read is in flight while the
 * caller works on the current page. Pages shrink to about {@link PassSettings#PAGE_BYTES} bytes whatever the key
 * limit, so a prefix of 1 MiB Secrets costs no more memory than one of 2 KiB ones.
 */
final class PageReader {
    /** A page of values in key order; {@code last} when the prefix has no more keys. */
    record Page(List<KeyValue> values, boolean last) {
    }

    // Small first page: the value sizes are unknown until one has been read.
    private static final int FIRST_PAGE = 100;

    private final KV kv;
    private final ByteSequence end;
    private final int maxKeys;
    private final Duration timeout;
    private final String datastore;
    private final String prefix;
    private int limit;
    private ByteSequence from;
    private CompletableFuture<GetResponse> pending;
    private boolean exhausted;

    PageReader(KV kv, String prefix, ByteSequence from, PassSettings settings) {
        this.kv = kv;
        this.prefix = prefix;
        this.end = KeyRange.endOf(prefix);
        this.maxKeys = settings.pageSize();
        this.timeout = settings.timeout();
        this.datastore = settings.datastore();
        this.limit = Math.min(maxKeys, FIRST_PAGE);
        this.from = from;
        this.pending = fetch();
    }

    /** The next page; after a page marked {@code last}, an empty last page again. */
    Page next() throws InterruptedException {
        if (exhausted) {
            return new Page(List.of(), true);
        }
        GetResponse response = await();
        List<KeyValue> values = response.getKvs();
        if (!response.isMore() || values.isEmpty()) {
            exhausted = true;
            pending = null;
            return new Page(values, true);
        }
        limit = limitFor(values);
        from = KeyRange.after(values.get(values.size() - 1).getKey());
        pending = fetch();
        return new Page(values, false);
    }

    private GetResponse await() throws InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try {
                return pending.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException | TimeoutException e) {
                Throwable cause = EtcdRetry.unwrap(e);
                if (EtcdRetry.isResponseTooLarge(cause) && limit > 1) {
                    limit = Math.max(1, limit / 2);
                } else if (!EtcdRetry.isTransient(cause) || attempt >= EtcdRetry.ATTEMPTS) {
                    throw new StateUnavailable("could not read " + prefix + " from " + datastore + " (" + attempt
                            + " attempts, last: " + cause + "); check that " + datastore + " is healthy, then run again: the"
                            + " pass resumes from its checkpoint", cause);
                } else {
                    Thread.sleep(EtcdRetry.delayBefore(attempt + 1).toMillis());
                }
                pending = fetch();
            }
        }
    }

    private CompletableFuture<GetResponse> fetch() {
        // No sort option on purpose: etcd returns key order anyway, and any sort makes etcd 3.4 read the whole
        // rest of the range before applying the limit (quadratic over a pass).
        GetOption option = GetOption.builder().withRange(end).withLimit(limit).build();
        return kv.get(from, option);
    }

    /** As many keys as fit the byte budget at the sizes just seen, within 1..maxKeys. */
    private int limitFor(List<KeyValue> values) {
        long bytes = 0;
        for (KeyValue v : values) {
            bytes += v.getKey().size() + v.getValue().size();
        }
        long average = Math.max(1, bytes / values.size());
        return (int) Math.max(1, Math.min(maxKeys, PassSettings.PAGE_BYTES / average));
    }

    /** Count of keys under {@code prefix}, without reading a value. */
    static long count(KV kv, String prefix, PassSettings settings) throws InterruptedException {
        Duration timeout = settings.timeout();
        GetOption option = GetOption.builder().withRange(KeyRange.endOf(prefix)).withCountOnly(true).build();
        ByteSequence start = ByteSequence.from(prefix, StandardCharsets.UTF_8);
        for (int attempt = 1; ; attempt++) {
            try {
                return kv.get(start, option).get(timeout.toMillis(), TimeUnit.MILLISECONDS).getCount();
            } catch (ExecutionException | TimeoutException e) {
                Throwable cause = EtcdRetry.unwrap(e);
                if (!EtcdRetry.isTransient(cause) || attempt >= EtcdRetry.ATTEMPTS) {
                    throw new StateUnavailable("could not count the keys under " + prefix + " in "
                            + settings.datastore() + " (" + cause + "); check that " + settings.datastore() + " is "
                            + "healthy, then run again", cause);
                }
                Thread.sleep(EtcdRetry.delayBefore(attempt + 1).toMillis());
            }
        }
    }
}
