package dev.secretsencrypt.store;

import dev.secretsencrypt.failure.AlreadyRunning;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** What re-encryption needs beyond the rotation state: the datastore itself, the owner, the checkpoint record. */
public interface ReencryptionStore {
    /** How many keys etcd holds under {@code prefix}. */
    long count(String prefix);

    /** The highest mod_revision of the keys under {@code prefix}: it moves whenever one of them is written. */
    long newestRevision(String prefix);

    /** The values of the first {@code limit} keys under {@code prefix}, in key order. */
    List<byte[]> values(String prefix, int limit);

    /** Which node holds the re-encryption lease now, if any. */
    Optional<String> owner();

    /**
     * Claims the re-encryption for {@code node} under a lease of {@code ttl}.
     *
     * @throws AlreadyRunning when another live node holds it
     */
    Ownership claim(String node, Duration ttl);

    /** The run record (JSON; etcd key names and counts, never key material), absent before the first run. */
    Optional<byte[]> runRecord();

    void saveRunRecord(byte[] json);
}
