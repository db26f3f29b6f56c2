package dev.secretsencrypt.usecase;

import java.nio.file.Path;

/** {@code --snapshot-dir DIR --snapshot-keep N}: where etcd snapshots taken before a retirement go, and how many stay. */
public record SnapshotPolicy(Path dir, int keep) {
    public SnapshotPolicy {
        if (keep < 1) {
            throw new IllegalArgumentException("keep at least one snapshot, not " + keep);
        }
    }
}
