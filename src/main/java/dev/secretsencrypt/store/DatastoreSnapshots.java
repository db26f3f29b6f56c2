package dev.secretsencrypt.store;

import java.io.OutputStream;
import java.time.Duration;

/**
 * etcd's own backup of its whole keyspace (the maintenance snapshot API, what {@code etcdctl snapshot save} writes):
 * taken before a key is retired, it keeps the data as it was under that key restorable. A store capability.
 */
public interface DatastoreSnapshots {
    /**
     * Streams a snapshot of the member this client talks to into {@code out}, waiting at most {@code within}.
     *
     * @return the bytes written
     */
    long saveSnapshot(OutputStream out, Duration within);

    /** Why this datastore gives no such snapshot, with the backup to take instead; empty where it does. */
    java.util.Optional<String> unavailable();
}
