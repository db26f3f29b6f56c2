package dev.secretsencrypt.store;

import dev.secretsencrypt.failure.AlreadyRunning;
import java.time.Duration;
import java.util.Optional;

/** Who runs the re-encryption now: one owner at a time, on a lease that dies with its process. */
public interface PassOwnership {
    /** Which node holds the re-encryption lease now, if any. */
    Optional<String> owner();

    /**
     * Claims the re-encryption for {@code node} under a lease of {@code ttl}.
     *
     * @throws AlreadyRunning when another live node holds it
     */
    Ownership claim(String node, Duration ttl);
}
