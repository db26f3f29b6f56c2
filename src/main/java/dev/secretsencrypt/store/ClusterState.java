package dev.secretsencrypt.store;

import dev.secretsencrypt.failure.ChangedConcurrently;
import java.util.Optional;

/** The rotation's single truth: the data dir on one server, or etcd for an HA control plane. */
public interface ClusterState extends AutoCloseable {
    /** Empty when encryption was never set up through this store. */
    Optional<Snapshot> read();

    /**
     * Stores {@code next} if the stored revision is still {@code expectedRevision} (0: nothing stored yet), all or
     * nothing. Returns it at its new revision.
     *
     * @throws ChangedConcurrently when another command changed the state first
     */
    Snapshot replace(long expectedRevision, Snapshot next);

    /** Where the truth lives, for messages: a path or the etcd endpoints. */
    String describe();

    @Override
    default void close() {
    }
}
