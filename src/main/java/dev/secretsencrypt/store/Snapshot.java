package dev.secretsencrypt.store;

import dev.secretsencrypt.config.ConfigHash;
import dev.secretsencrypt.rotation.RetiredKey;
import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.rotation.RotationState;
import java.util.List;

/**
 * The cluster's truth at one revision: the rotation, and the keys retired from the config but kept (wrapped)
 * so a value restored from an old etcd snapshot stays readable. Revision 0 means "not stored yet".
 */
public record Snapshot(long revision, RotationState rotation, List<RetiredKey> retiredKeys) {
    public Snapshot {
        retiredKeys = List.copyOf(retiredKeys);
    }

    public static Snapshot unsaved(RotationState rotation) {
        return new Snapshot(0, rotation, List.of());
    }

    public Snapshot with(RotationState next) {
        return new Snapshot(revision, next, retiredKeys);
    }

    public Snapshot atRevision(long next) {
        return new Snapshot(next, rotation, retiredKeys);
    }

    /** sha256 of the canonical file every server should have loaded. */
    public ConfigHash configHash() {
        return ConfigHash.ofFile(ConfigFiles.canonicalBytes(rotation.config()));
    }
}
