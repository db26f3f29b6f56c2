package dev.secretsencrypt.store;

import java.time.Duration;
import java.util.Optional;

/**
 * One leader among the agents of a cluster (etcd's election API): it carries out requested re-encryptions and runs
 * the rotation schedule. Leadership is a convenience, not the safety: a re-encryption still claims its own owner
 * lease, so two agents that both think they lead can never run two passes at once.
 */
public interface Leadership {
    /**
     * Blocks until {@code candidate} leads, or {@code within} passed (empty). The term ends when its lease lapses
     * ({@link Ownership#lost()}) or when closed (resigns, so another agent takes over at once).
     */
    Optional<Ownership> campaign(String candidate, Duration within) throws InterruptedException;
}
