package dev.secretsencrypt.reencrypt;

import dev.secretsencrypt.apiserver.IdentityLease;
import dev.secretsencrypt.store.EtcdPrefix;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Whether an etcd prefix is the live cluster's: kube-apiserver 1.26 and newer keeps an identity lease per server under
 * {@code <prefix>/leases/kube-system/apiserver-…} and renews it every 10 s. A stale copy of the data (an old restore
 * under another prefix) holds only leases nobody renews; retiring keys after scanning it would strand the live data.
 */
public final class ApiserverLeases {
    /** Far above the 10 s renew period, so a slow apiserver or a little clock skew is never taken for a stale copy. */
    public static final Duration STALE_AFTER = Duration.ofMinutes(5);
    /** How long to watch for a renewal: longer than the 10 s renew period, with room for a slow apiserver. */
    public static final Duration RENEWAL_WAIT = Duration.ofSeconds(15);

    /** What the leases say about the prefix. */
    public sealed interface Liveness {
        /** A lease renewed within {@link #STALE_AFTER}. */
        record Live(Instant newestRenewal) implements Liveness {
        }

        /** Leases, none renewed recently. */
        record Stale(Instant newestRenewal, int leases) implements Liveness {
        }

        /** No identity lease that can be read (older kube-apiserver, or data without one): liveness unknown. */
        record Unknown() implements Liveness {
        }
    }

    private ApiserverLeases() {
    }

    public static String leasePrefix(EtcdPrefix etcdPrefix) {
        return etcdPrefix.under("leases/kube-system") + "apiserver-";
    }

    /** Judges the stored identity leases (values under {@link #leasePrefix}) at {@code now}. */
    public static Liveness judge(List<byte[]> leases, Instant now) {
        Optional<Instant> newest = leases.stream().map(IdentityLease::renewTime).flatMap(Optional::stream)
                .max(Instant::compareTo);
        if (newest.isEmpty()) {
            return new Liveness.Unknown();
        }
        if (newest.get().isAfter(now.minus(STALE_AFTER))) {
            return new Liveness.Live(newest.get());
        }
        return new Liveness.Stale(newest.get(), leases.size());
    }
}
