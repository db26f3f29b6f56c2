package dev.secretsencrypt.store;

/** This node's claim on a running re-encryption, held by an etcd lease that dies with the process. */
public interface Ownership extends AutoCloseable {
    /** True once the lease could not be kept alive: another node may take over, so this one must stop. */
    boolean lost();

    /** Releases the claim now: revokes the lease, which deletes the owner key while it is still ours. */
    @Override
    void close();
}
