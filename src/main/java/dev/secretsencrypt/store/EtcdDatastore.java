package dev.secretsencrypt.store;

import dev.secretsencrypt.failure.CommandRefused;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import java.time.Duration;
import java.util.Locale;

/**
 * One etcd as the use cases see it: a capability per need, all on one client, closed together. Built by
 * {@link EtcdConnection}; nothing else of jetcd leaves this package but {@link #kv()}, which the pass over the stored
 * values (package {@code reencrypt}) pages and writes with.
 */
public final class EtcdDatastore implements AutoCloseable {
    private final EtcdCalls etcd;
    private final ClusterState state;
    private final EtcdServers servers;
    private final EtcdRuns runs;
    private final EtcdData data;
    private final RetiredKeysInUse findings;
    private final StateKeys keys;

    EtcdDatastore(Client client, StatePrefix statePrefix, char[] token, String endpoints, Duration timeout) {
        this.keys = new StateKeys(statePrefix.asDirectory());
        this.etcd = new EtcdCalls(client, endpoints, timeout, keys.prefix());
        this.state = new EtcdClusterState(etcd, keys, token);
        this.servers = new EtcdServers(etcd, keys);
        this.runs = new EtcdRuns(etcd, keys);
        this.data = new EtcdData(etcd);
        this.findings = new EtcdFindings(etcd, keys);
    }

    /**
     * Refuses, before anything is written, a node name this datastore would not keep apart from another: where keys
     * are compared without case (kine over MySQL/MariaDB), {@code Node-1} and {@code node-1} would write one report
     * and one record, each server overwriting the other's and neither refused as the other machine; and it takes
     * ASCII keys only. The state prefix is the same on every server, so its case merges nothing: only ASCII is asked
     * of it there. The datastore is asked only when the name or prefix has such a character.
     */
    public void requireKeysKeptApart(String node) {
        boolean capitals = node.chars().anyMatch(c -> c >= 'A' && c <= 'Z');
        boolean beyondAscii = node.chars().anyMatch(c -> c > 0x7f);
        boolean prefixBeyondAscii = keys.prefix().chars().anyMatch(c -> c > 0x7f);
        if (!(capitals || beyondAscii || prefixBeyondAscii) || !etcd.foldsCase()) {
            return;
        }
        String store = "kine at " + etcd.endpoints + " keeps its keys in MySQL/MariaDB, which compares them without "
                + "case and takes ASCII only (it answered a read of COMPACT_REV_KEY with compact_rev_key)";
        if (prefixBeyondAscii) {
            throw new CommandRefused(store + ": --state-prefix " + StateKeys.shown(keys.prefix()) + " is not ASCII; "
                    + "give an ASCII --state-prefix, the same on every server; nothing was changed");
        }
        if (beyondAscii) {
            throw new CommandRefused(store + ": the node name " + StateKeys.shown(node) + " is not ASCII; give this "
                    + "server an ASCII --node-name (lowercase letters, digits, '-' and '.', as Kubernetes names nodes); "
                    + "nothing was changed");
        }
        String lower = node.toLowerCase(Locale.ROOT);
        throw new CommandRefused(store + ": the node name " + StateKeys.shown(node) + " has capitals, and there it is "
                + "one name with " + StateKeys.shown(lower) + " and every other case of it, so two such servers would "
                + "overwrite each other's reports unseen; give this server --node-name " + lower + " (lowercase, as "
                + "Kubernetes names nodes); nothing was changed");
    }

    public ClusterState state() {
        return state;
    }

    public ServerReports reports() {
        return servers;
    }

    public ServerRegistry registry() {
        return servers;
    }

    public PassOwnership owner() {
        return runs;
    }

    public RunRecords runRecords() {
        return runs;
    }

    public KubernetesData kubernetesData() {
        return data;
    }

    public DatastoreSnapshots snapshots() {
        return data;
    }

    public RetiredKeysInUse findings() {
        return findings;
    }

    /** One leader among the agents of this cluster. */
    public Leadership leadership() {
        if (etcd.kind() == DatastoreKind.KINE) {
            return new KineLeadership(etcd, keys.leaderElection() + "/kine");
        }
        return new EtcdLeadership(etcd.client, keys.leaderElection());
    }

    /** Hears each change under the tool's prefix: the state, the reports, the run record. */
    public StateWatch stateWatch() {
        return new EtcdStateWatch(etcd.client, keys.prefix());
    }

    /** How the pass writes values here: batched on etcd, one key per transaction on kine. */
    public ValueWrites valueWrites() {
        return etcd.kind() == DatastoreKind.KINE ? ValueWrites.SINGLE_KEY : ValueWrites.BATCHED;
    }

    /** The etcd that holds the Secrets, for the pass over them (reencrypt/): the one jetcd type handed out. */
    public KV kv() {
        return etcd.kv;
    }

    @Override
    public void close() {
        etcd.client.close();
    }
}
