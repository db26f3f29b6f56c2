package dev.secretsencrypt.store;

import java.util.Optional;

/** The re-encryption's run record: its checkpoint and outcome (JSON; etcd key names and counts, never key material). */
public interface RunRecords {
    /** The run record, absent before the first run. */
    Optional<byte[]> runRecord();

    void saveRunRecord(byte[] json);
}
