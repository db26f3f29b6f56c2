package dev.secretsencrypt.store;

import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import java.time.Duration;

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
