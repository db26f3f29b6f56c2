package dev.secretsencrypt.store;

import static dev.secretsencrypt.store.EtcdCalls.bytes;

import dev.secretsencrypt.failure.StateUnavailable;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A key that lives while its holder does, on kine: kine has no lease to keep alive, it deletes a key written with a
 * lease of N (the lease id is the TTL in seconds) N seconds after its last write. So the key is written again every
 * third of the TTL, each time by compare-and-swap on its own last revision: a key someone else wrote or deleted
 * meanwhile is no longer ours, and the claim is lost at once rather than overwritten.
 */
final class TtlKey implements Ownership {
    private static final Duration MARGIN = Duration.ofSeconds(5);

    private final EtcdCalls etcd;
    private final ByteSequence key;
    private final String name;
    private final long ttlSeconds;
    private final long confirmFor;
    private final ScheduledExecutorService renewer;
    private final AtomicLong lastConfirmed = new AtomicLong(System.nanoTime());
    private byte[] value;
    private long revision;
    private volatile boolean gone;
    private boolean closed;

    private TtlKey(EtcdCalls etcd, String key, byte[] value, long revision, Duration ttl) {
        this.etcd = etcd;
        this.key = bytes(key);
        this.name = key;
        this.value = value.clone();
        this.revision = revision;
        this.ttlSeconds = Math.max(1, ttl.toSeconds());
        // as on etcd: a renewal stops counting a margin before the TTL ends, when a successor may take over
        Duration margin = ttl.dividedBy(4).compareTo(MARGIN) < 0 ? ttl.dividedBy(4) : MARGIN;
        this.confirmFor = ttl.minus(margin).toNanos();
        this.renewer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ttl-key " + key);
            t.setDaemon(true);
            return t;
        });
        long every = Math.max(200, ttl.toMillis() / 3);
        renewer.scheduleWithFixedDelay(this::renew, every, every, TimeUnit.MILLISECONDS);
    }

    /** Creates {@code key} when absent; empty when it exists (held by someone else). */
    static Optional<TtlKey> create(EtcdCalls etcd, String key, byte[] value, Duration ttl, String what) {
        return etcd.casPut(bytes(key), 0, value, onTtl(ttl), what)
                .map(revision -> new TtlKey(etcd, key, value, revision, ttl));
    }

    /** Writes {@code key} whatever it holds now (a lapsed holder's copy, say), then keeps it alive. */
    static TtlKey take(EtcdCalls etcd, String key, byte[] value, Duration ttl, String what) {
        ByteSequence k = bytes(key);
        for (int attempt = 1; ; attempt++) {
            long now = etcd.awaitRetrying(() -> etcd.kv.get(k), what).getKvs().stream().findFirst()
                    .map(KeyValue::getModRevision).orElse(0L);
            Optional<Long> ours = etcd.casPut(k, now, value, onTtl(ttl), what);
            if (ours.isPresent()) {
                return new TtlKey(etcd, key, value, ours.get(), ttl);
            }
            if (attempt >= EtcdRetry.ATTEMPTS) {
                throw new StateUnavailable("cannot " + what + ": " + key + " kept changing "
                        + "in kine; run again");
            }
        }
    }

    private static PutOption onTtl(Duration ttl) {
        // kine reads a lease id as the key's time to live in seconds
        return PutOption.builder().withLeaseId(Math.max(1, ttl.toSeconds())).build();
    }

    private synchronized void renew() {
        if (closed || gone) {
            return;
        }
        try {
            write(value);
        } catch (RuntimeException unreachable) {
            // tried again at the next renewal; lost() says so once the TTL may have run out
        }
    }

    /** One CAS write of {@code next} on our last revision; a failed compare means the key is no longer ours. */
    private void write(byte[] next) {
        Optional<Long> put = etcd.casPut(key, revision, next, PutOption.builder().withLeaseId(ttlSeconds).build(),
                "renew " + name);
        if (put.isPresent()) {
            revision = put.get();
            value = next.clone();
            lastConfirmed.set(System.nanoTime());
        } else {
            gone = true;
        }
    }

    /** Writes a new value under the same claim (the agent's problem beside its report lease). */
    synchronized void update(byte[] next) {
        if (!closed && !gone) {
            write(next);
        }
    }

    /** Never waits for a renewal stuck in retries: /healthz and the leader's metric ask it while kine is away. */
    @Override
    public boolean lost() {
        return gone || System.nanoTime() - lastConfirmed.get() > confirmFor;
    }

    /** Stops renewing and deletes the key while it is still ours; a successor's key stays. */
    @Override
    public void close() {
        long last;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            last = revision;
        }
        renewer.shutdownNow();
        try {
            etcd.await(etcd.kv.txn().If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(last)))
                    .Then(Op.delete(key, DeleteOption.DEFAULT)).Else(Op.get(key, GetOption.DEFAULT)).commit(),
                    "release " + name);
        } catch (RuntimeException e) {
            // it lapses by itself within its TTL
        }
    }
}
