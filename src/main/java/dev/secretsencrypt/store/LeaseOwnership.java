package dev.secretsencrypt.store;

import io.etcd.jetcd.Lease;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.support.CloseableClient;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps the owner lease alive while the pass runs. A keep-alive stream broken by a lost etcd member or a leader
 * election is opened again; the claim counts as lost only when etcd says the lease is gone, or when no renewal was
 * confirmed for long enough that the lease may have expired and another node may have taken over.
 */
final class LeaseOwnership implements Ownership {
    // Renewals stop counting this long before the TTL ends (a successor may claim only after the TTL): 5 s, or a
    // quarter of a short TTL, which would otherwise be lost before its first renewal
    private static final Duration MARGIN = Duration.ofSeconds(5);
    private static final long REOPEN_DELAY_MILLIS = 500;

    private final Lease leases;
    private final long lease;
    private final long confirmFor;
    private final AtomicBoolean gone = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final AtomicLong lastConfirmed = new AtomicLong(System.nanoTime());
    private volatile CloseableClient keepAlive;

    LeaseOwnership(Lease leases, long lease, Duration ttl) {
        this.leases = leases;
        this.lease = lease;
        Duration margin = ttl.dividedBy(4).compareTo(MARGIN) < 0 ? ttl.dividedBy(4) : MARGIN;
        this.confirmFor = ttl.minus(margin).toNanos();
        open();
    }

    private void open() {
        keepAlive = leases.keepAlive(lease, new StreamObserver<>() {
            @Override
            public void onNext(LeaseKeepAliveResponse response) {
                if (response.getTTL() <= 0) {
                    gone.set(true);
                } else {
                    lastConfirmed.set(System.nanoTime());
                }
            }

            @Override
            public void onError(Throwable t) {
                reopenLater();
            }

            @Override
            public void onCompleted() {
                reopenLater();
            }
        });
    }

    private void reopenLater() {
        if (closed.get() || gone.get()) {
            return;
        }
        CompletableFuture.delayedExecutor(REOPEN_DELAY_MILLIS, TimeUnit.MILLISECONDS).execute(() -> {
            if (!closed.get()) {
                keepAlive.close();
                open();
            }
        });
    }

    @Override
    public boolean lost() {
        return gone.get() || System.nanoTime() - lastConfirmed.get() > confirmFor;
    }

    @Override
    public void close() {
        closed.set(true);
        keepAlive.close();
        try {
            leases.revoke(lease).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            // the lease then simply expires within its TTL, and the owner key with it
        }
    }
}
