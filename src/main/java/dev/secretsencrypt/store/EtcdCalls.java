package dev.secretsencrypt.store;

import dev.secretsencrypt.failure.StateUnavailable;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Requests to one etcd, bounded in time and retried where that is safe; every store capability on etcd goes through
 * here, so an unreachable etcd is the same sentence everywhere and never a hang.
 */
final class EtcdCalls {
    final Client client;
    final KV kv;
    final String endpoints;
    final Duration timeout;
    private final String probeKey;
    private volatile boolean reached;
    private volatile DatastoreKind kind;

    EtcdCalls(Client client, String endpoints, Duration timeout, String ownPrefix) {
        this.client = client;
        this.kv = client.getKVClient();
        this.endpoints = endpoints;
        this.timeout = timeout;
        this.probeKey = ownPrefix + "probe";
    }

    /**
     * etcd or kine, asked once: a transaction of two compares and no operation on this tool's own keys (it changes
     * nothing) is taken by etcd and refused by kine as an unsupported transaction.
     */
    DatastoreKind kind() {
        DatastoreKind known = kind;
        if (known != null) {
            return known;
        }
        ByteSequence a = bytes(probeKey + "-a");
        ByteSequence b = bytes(probeKey + "-b");
        CompletableFuture<TxnResponse> probe = kv.txn().If(new Cmp(a, Cmp.Op.EQUAL, CmpTarget.modRevision(0)),
                new Cmp(b, Cmp.Op.EQUAL, CmpTarget.modRevision(0))).commit();
        try {
            await(probe, "find out which datastore answers");
            known = DatastoreKind.ETCD;
        } catch (StateUnavailable e) {
            if (!EtcdRetry.isUnsupportedTransaction(e.getCause())) {
                throw e;
            }
            known = DatastoreKind.KINE;
        }
        kind = known;
        return known;
    }

    /**
     * Whether keys that differ in case only are one key here, as on kine over MySQL/MariaDB (its key column is ASCII
     * with a case-insensitive collation). Asked of kine only, by a read of {@code COMPACT_REV_KEY}: kine keeps its own
     * {@code compact_rev_key} on every SQL database from its first start, and only a store that folds case answers
     * the read with it. Reads only.
     */
    boolean foldsCase() {
        if (kind() != DatastoreKind.KINE) {
            return false;
        }
        ByteSequence asked = bytes("COMPACT_REV_KEY");
        return awaitRetrying(() -> kv.get(asked), "find out how kine compares keys").getKvs().stream()
                .anyMatch(kv -> !kv.getKey().equals(asked));
    }

    /** The datastore's name, asking it first when not known yet; etcd when it cannot be asked. */
    String askedName() {
        try {
            return kind().text();
        } catch (StateUnavailable unreachable) {
            return name();
        }
    }

    /** The datastore's name for messages: etcd until it is known to be kine. */
    String name() {
        DatastoreKind known = kind;
        return known == null ? DatastoreKind.ETCD.text() : known.text();
    }

    /** Waits at most the timeout: an unreachable etcd is an error in seconds, never a hang. */
    <T> T await(CompletableFuture<T> future, String what) {
        try {
            T answer = future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            reached = true;
            return answer;
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new StateUnavailable("cannot " + what + ": " + name() + " at " + endpoints + " did not answer within "
                    + timeout.toSeconds() + " s; check --endpoints, the TLS options and that " + name() + " is running",
                    e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new StateUnavailable("cannot " + what + " in " + name() + " at " + endpoints + ": "
                    + cause.getMessage(), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StateUnavailable("interrupted while waiting for " + name() + " to " + what);
        }
    }

    /**
     * For requests that are safe to send twice (reads, plain puts): a lost member or a leader election is ridden
     * through as long as the quorum holds, instead of ending a pass that has been running for an hour.
     */
    <T> T awaitRetrying(Supplier<CompletableFuture<T>> request, String what) {
        for (int attempt = 1; ; attempt++) {
            try {
                return await(request.get(), what);
            } catch (StateUnavailable e) {
                // an etcd never reached is a setup problem (endpoints, TLS): said within seconds, not retried
                if (!reached || attempt >= EtcdRetry.ATTEMPTS || !EtcdRetry.isTransient(e.getCause())) {
                    throw e;
                }
            }
            try {
                Thread.sleep(EtcdRetry.delayBefore(attempt + 1).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StateUnavailable("interrupted while waiting for " + name() + " to " + what);
            }
        }
    }

    /** Every key under {@code prefix}, retried. */
    GetResponse under(String prefix, String what) {
        return awaitRetrying(() -> kv.get(bytes(prefix), GetOption.builder().isPrefix(true).build()), what);
    }

    /**
     * Deletes {@code key} as it is now, by a compare on its mod_revision (the one delete kine takes; a plain delete
     * it refuses); true when this call deleted it. A key written meanwhile is read again and deleted as it is then.
     */
    boolean delete(String key, String what) {
        ByteSequence k = bytes(key);
        for (int attempt = 1; attempt <= EtcdRetry.ATTEMPTS; attempt++) {
            GetResponse now = awaitRetrying(() -> kv.get(k), what);
            if (now.getKvs().isEmpty()) {
                return false;
            }
            long revision = now.getKvs().get(0).getModRevision();
            TxnResponse done = await(kv.txn().If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(revision)))
                    .Then(Op.delete(k, DeleteOption.DEFAULT)).Else(Op.get(k, GetOption.DEFAULT)).commit(), what);
            if (done.isSucceeded()) {
                return true;
            }
        }
        throw new StateUnavailable("cannot " + what + ": " + key + " kept changing while it was being removed; run "
                + "the command again");
    }

    /**
     * One compare-and-swap in the single-key shape both etcd and kine take: {@code key} at {@code expected}
     * (0: absent) gets {@code value}. Returns the revision it was left at; empty when the compare failed. A create's
     * revision is read back: kine v0.17.5 answers a create over a deleted key with its current revision, not the
     * key's, while others write; empty too when the key no longer holds {@code value} by then.
     */
    Optional<Long> casPut(ByteSequence key, long expected, byte[] value, PutOption option, String what) {
        TxnResponse put = await(kv.txn().If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(expected)))
                .Then(Op.put(key, ByteSequence.from(value), option)).Else(Op.get(key, GetOption.DEFAULT)).commit(), what);
        if (!put.isSucceeded()) {
            return Optional.empty();
        }
        if (expected != 0) {
            return Optional.of(put.getHeader().getRevision());
        }
        return awaitRetrying(() -> kv.get(key), what).getKvs().stream().findFirst()
                .filter(kv -> Arrays.equals(kv.getValue().getBytes(), value)).map(KeyValue::getModRevision);
    }

    static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }
}
