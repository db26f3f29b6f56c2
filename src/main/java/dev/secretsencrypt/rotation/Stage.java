package dev.secretsencrypt.rotation;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/** The rotation stages, named as operators see them in `status` and in K3s/RKE2. */
public enum Stage {
    START, PREPARE, ROTATE, REENCRYPT_REQUEST, REENCRYPT_ACTIVE, REENCRYPT_FINISHED;

    /** {@code reencrypt_active}: the form printed and stored. */
    public String text() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Optional<Stage> parse(String text) {
        return Arrays.stream(values()).filter(s -> s.text().equals(text)).findFirst();
    }

    /** A new rotation may begin: nothing half-done is waiting. */
    public boolean isRestingPoint() {
        return this == START || this == REENCRYPT_FINISHED;
    }
}
