package dev.secretsencrypt.rotation;

import dev.secretsencrypt.config.KeyRef;
import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.ProviderType;
import java.util.List;

/** What {@link Rotation#retire} decided: the config without the retired keys, and the keys it took out. */
public record Retirement(RotationState next, List<Retired> retired) {
    public Retirement {
        retired = List.copyOf(retired);
    }

    /** A key taken out of the config; the caller keeps it (wrapped) to read values restored from old snapshots. */
    public record Retired(ProviderType type, Key key) {
        public KeyRef ref() {
            return new KeyRef(type, key.name());
        }
    }
}
