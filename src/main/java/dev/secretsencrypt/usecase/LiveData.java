package dev.secretsencrypt.usecase;

import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.reencrypt.ApiserverLeases;
import dev.secretsencrypt.store.EtcdPrefix;
import dev.secretsencrypt.store.KubernetesData;
import java.time.Clock;
import java.util.function.Consumer;

/**
 * Whether the data under {@code --etcd-prefix} is the live cluster's: kube-apiserver stores its namespaces there, and
 * renews its identity lease every 10 s. A wrong prefix scans nothing, a restored copy holds leases nobody renews:
 * either would let a key the live data needs be retired.
 */
final class LiveData {
    private static final int MAX_LEASES = 1000; // one per apiserver; far more than any control plane runs

    private final KubernetesData data;
    private final EtcdPrefix etcdPrefix;
    private final String where;
    private final Consumer<String> notes;
    private final Clock clock;

    LiveData(KubernetesData data, EtcdPrefix etcdPrefix, String where, Consumer<String> notes, Clock clock) {
        this.data = data;
        this.etcdPrefix = etcdPrefix;
        this.where = where;
        this.notes = notes;
        this.clock = clock;
    }

    /** How a live prefix is told from a copy: by the leases' renew times, or by watching one of them renewed. */
    enum Renewal { BY_TIME, OBSERVED }

    /**
     * Refuses data that is missing or not the live cluster's; notes when liveness cannot be checked. Before keys may be
     * retired (reencrypt) a renewal must be seen happen ({@link Renewal#OBSERVED}): a copy taken a minute ago still has
     * recent renew times.
     */
    void require(Renewal renewal) {
        String namespaces = etcdPrefix.under("namespaces");
        if (data.count(namespaces) == 0) {
            throw new CommandRefused("no kube-apiserver data under " + etcdPrefix + " in " + where + " (no " + namespaces
                    + "): check --etcd-prefix (kube-apiserver's --etcd-prefix, default /registry) and --endpoints; "
                    + "nothing was changed");
        }
        String leases = ApiserverLeases.leasePrefix(etcdPrefix);
        ApiserverLeases.Liveness liveness = ApiserverLeases.judge(data.values(leases, MAX_LEASES), clock.instant());
        if (liveness instanceof ApiserverLeases.Liveness.Stale stale) {
            throw notLive(leases, "none of its " + stale.leases() + " kube-apiserver identity lease(s) was renewed since "
                    + stale.newestRenewal());
        }
        if (liveness instanceof ApiserverLeases.Liveness.Unknown) {
            if (renewal == Renewal.OBSERVED) { // verify only reads: the note matters where keys may be retired
                notes.accept("note: no kube-apiserver identity lease under " + leases + "… (kube-apiserver before "
                        + "1.26?), so whether " + etcdPrefix + " is the live cluster's data cannot be checked: make sure "
                        + "--etcd-prefix and --endpoints are kube-apiserver's own");
            }
            return;
        }
        if (renewal == Renewal.OBSERVED && !renewalSeen(leases)) {
            throw notLive(leases, "none of its kube-apiserver identity leases was renewed in "
                    + ApiserverLeases.RENEWAL_WAIT.toSeconds() + " s");
        }
    }

    private CommandRefused notLive(String leases, String why) {
        return new CommandRefused("the data under " + etcdPrefix + " is not the live cluster's: " + why + " (" + leases
                + "…), and a running kube-apiserver renews its own every 10 s. A copy (a restore under another "
                + "prefix?) would let keys the live data needs be retired. Check --etcd-prefix (kube-apiserver's "
                + "--etcd-prefix) and --endpoints, and this server's clock; nothing was changed");
    }

    /** Waits until a lease under {@code leases} is written again (kube-apiserver renews every 10 s). */
    private boolean renewalSeen(String leases) {
        long before = data.newestRevision(leases);
        long deadline = System.nanoTime() + ApiserverLeases.RENEWAL_WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CommandRefused("interrupted while waiting to see kube-apiserver renew its lease; nothing was "
                        + "changed");
            }
            if (data.newestRevision(leases) > before) {
                return true;
            }
        }
        return false;
    }
}
