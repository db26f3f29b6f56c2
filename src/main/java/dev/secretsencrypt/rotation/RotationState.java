package dev.secretsencrypt.rotation;

import dev.secretsencrypt.config.KeyRef;
import dev.secretsencrypt.config.EncryptionConfig;
import java.util.Optional;

/**
 * Where a rotation stands: the stage, the config every server should load, and the key {@code prepare}
 * added and {@code rotate} will make active (so rotate never has to guess which key is new).
 */
public record RotationState(Stage stage, EncryptionConfig config, Optional<KeyRef> prepared) {
    public RotationState withStage(Stage next) {
        return new RotationState(next, config, prepared);
    }
}
