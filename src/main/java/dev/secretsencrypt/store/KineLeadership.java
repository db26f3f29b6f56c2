package dev.secretsencrypt.store;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/**
 * {@link Leadership} on kine, which has no election API: the leader is whoever created the leader key, a key kine
 * deletes a term after its last write; the leader writes it again while it leads ({@link TtlKey}) and deletes it when
 * it resigns. The others try to create it every half second.
 */
final class KineLeadership implements Leadership {
    private static final long RETRY_MILLIS = 500;

    private final EtcdCalls etcd;
    private final String leaderKey;

    KineLeadership(EtcdCalls etcd, String leaderKey) {
        this.etcd = etcd;
        this.leaderKey = leaderKey;
    }

    @Override
    public Optional<Ownership> campaign(String candidate, Duration within) throws InterruptedException {
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            Optional<TtlKey> won = TtlKey.create(etcd, leaderKey, candidate.getBytes(StandardCharsets.UTF_8),
                    EtcdLeadership.TERM_LEASE, "stand for agent leader");
            if (won.isPresent()) {
                return Optional.of(won.get());
            }
            if (System.nanoTime() > deadline) {
                return Optional.empty();
            }
            Thread.sleep(RETRY_MILLIS); // the leader key is held: try again when its holder may have gone
        }
    }
}
