package dev.secretsencrypt.store;

import dev.secretsencrypt.failure.StateUnavailable;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Election;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.election.LeaderKey;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** {@link Leadership} on etcd's election API, each term on its own lease. */
final class EtcdLeadership implements Leadership {
    static final Duration TERM_LEASE = Duration.ofSeconds(15);

    private final Client client;
    private final ByteSequence election;

    EtcdLeadership(Client client, String electionKey) {
        this.client = client;
        this.election = ByteSequence.from(electionKey, StandardCharsets.UTF_8);
    }

    @Override
    public Optional<Ownership> campaign(String candidate, Duration within) throws InterruptedException {
        Lease leases = client.getLeaseClient();
        long lease;
        try {
            lease = leases.grant(TERM_LEASE.toSeconds()).get(5, TimeUnit.SECONDS).getID();
        } catch (ExecutionException e) {
            throw new StateUnavailable("cannot stand for agent leader: etcd refused a lease: " + e.getCause().getMessage(), e);
        } catch (TimeoutException e) {
            throw new StateUnavailable("cannot stand for agent leader: etcd did not grant a lease within 5 s", e);
        }
        LeaseOwnership term = new LeaseOwnership(leases, lease, TERM_LEASE);
        Election elections = client.getElectionClient();
        CompletableFuture<LeaderKey> won = elections.campaign(election, lease,
                ByteSequence.from(candidate, StandardCharsets.UTF_8)).thenApply(r -> r.getLeader());
        long deadline = System.nanoTime() + within.toNanos();
        try {
            while (true) {
                try {
                    LeaderKey key = won.get(500, TimeUnit.MILLISECONDS);
                    return Optional.of(new Term(term, elections, key));
                } catch (TimeoutException notYet) {
                    // a campaign whose lease lapsed while it waited could never win: stand again on a new lease
                    if (term.lost() || System.nanoTime() > deadline) {
                        won.cancel(true);
                        term.close();
                        return Optional.empty();
                    }
                }
            }
        } catch (ExecutionException e) {
            term.close();
            throw new StateUnavailable("etcd refused the agent leader campaign: " + e.getCause().getMessage(), e);
        } catch (InterruptedException e) {
            won.cancel(true);
            term.close();
            throw e;
        }
    }

    /** A won term: lost with its lease; closing resigns first, so a successor need not wait for the lease to lapse. */
    private record Term(LeaseOwnership lease, Election elections, LeaderKey key) implements Ownership {
        @Override
        public boolean lost() {
            return lease.lost();
        }

        @Override
        public void close() {
            try {
                elections.resign(key).get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                // revoking the lease below ends the term as well
            }
            lease.close();
        }
    }
}
