package dev.secretsencrypt.store;

import io.etcd.jetcd.Lease;
import io.etcd.jetcd.lease.LeaseKeepAliveResponse;
import io.etcd.jetcd.support.CloseableClient;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/** Keeps the owner lease alive while the pass runs; a broken keep-alive stream marks the claim lost. */
final class LeaseOwnership implements Ownership {
    private final Lease leases;
    private final long lease;
    private final AtomicBoolean lost = new AtomicBoolean();
    private final CloseableClient keepAlive;

    LeaseOwnership(Lease leases, long lease) {
        this.leases = leases;
        this.lease = lease;
        this.keepAlive = leases.keepAlive(lease, new StreamObserver<>() {
            @Override
            public void onNext(LeaseKeepAliveResponse response) {
                if (response.getTTL() <= 0) {
                    lost.set(true);
                }
            }

            @Override
            public void onError(Throwable t) {
                lost.set(true);
            }

            @Override
            public void onCompleted() {
                lost.set(true);
            }
        });
    }

    @Override
    public boolean lost() {
        return lost.get();
    }

    @Override
    public void close() {
        keepAlive.close();
        try {
            leases.revoke(lease).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            // the lease then simply expires within its TTL, and the owner key with it
        }
    }
}
