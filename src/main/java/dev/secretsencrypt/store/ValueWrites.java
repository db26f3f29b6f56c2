package dev.secretsencrypt.store;

/**
 * How the datastore takes the pass's compare-and-swap writes: etcd takes many keys in one transaction, with every
 * page's transactions in flight at once; kine takes one key per transaction, so writes are single-key and bounded in
 * number at a time (its SQL database serializes them anyway). {@code datastore} names it in messages.
 */
public record ValueWrites(String datastore, int valuesPerTransaction, int transactionsInFlight) {
    /** etcd: no bound beyond what the pass itself sets. */
    static final ValueWrites BATCHED = new ValueWrites("etcd", Integer.MAX_VALUE, Integer.MAX_VALUE);
    /**
     * kine: one key per transaction, this many at a time: 8 was best or within the noise on SQLite, PostgreSQL and
     * MariaDB (scripts/bench.sh), while 32 halved the rate on PostgreSQL, whose kine slows past ~16 in flight.
     */
    static final ValueWrites SINGLE_KEY = new ValueWrites("kine", 1, 8);
}
