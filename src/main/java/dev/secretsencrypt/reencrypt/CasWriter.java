package dev.secretsencrypt.reencrypt;

import dev.secretsencrypt.store.EtcdRetry;
import dev.secretsencrypt.failure.StateUnavailable;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Writes values back in etcd transactions that compare every key's mod_revision. When one compare fails (an
 * apiserver wrote meanwhile), the same transaction's Else branch returns every key's current value, so only
 * the keys that changed are judged again, from their new value, and the batch is retried: the concurrent write
 * always wins, and no write is ever lost.
 */
final class CasWriter {
    /** A key seen changed this often while we try to rewrite it is left to the apiserver, and counted failed. */
    static final int MAX_CHANGES = 50;
    private static final System.Logger LOG = System.getLogger(CasWriter.class.getName());

    private final KV kv;
    private final PassSettings settings;
    private final Executor pool;
    private final AtomicBoolean stopped;
    /** Transactions in flight at most (kine: its SQL database serializes them; etcd: unbounded here). */
    private final Semaphore inFlight;

    CasWriter(KV kv, PassSettings settings, Executor pool, AtomicBoolean stopped) {
        this.kv = kv;
        this.settings = settings;
        this.pool = pool;
        this.stopped = stopped;
        this.inFlight = new Semaphore(settings.maxInFlight());
    }

    /** Completes once every value is written, kept, or given up on; all its transactions run at once. */
    CompletableFuture<Void> write(List<Rewrite> writes, ValuePolicy policy, Tally tally) {
        List<List<Rewrite>> batches = Batches.split(writes, settings.maxBatchValues(), settings.maxBatchBytes());
        return allOf(batches.stream().map(batch -> commit(batch, policy, tally, 1)).toList());
    }

    private CompletableFuture<Void> commit(List<Rewrite> batch, ValuePolicy policy, Tally tally, int attempt) {
        if (stopped.get()) {
            return CompletableFuture.failedFuture(new CancellationException("the pass was stopped"));
        }
        int n = batch.size();
        Cmp[] unchanged = new Cmp[n];
        Op[] puts = new Op[n];
        Op[] reads = new Op[n];
        for (int i = 0; i < n; i++) {
            Rewrite w = batch.get(i);
            unchanged[i] = new Cmp(w.key(), Cmp.Op.EQUAL, CmpTarget.modRevision(w.modRevision()));
            // A put without its lease would detach the key, which would then outlive the TTL its owner set.
            PutOption option = w.lease() == 0 ? PutOption.DEFAULT : PutOption.builder().withLeaseId(w.lease()).build();
            puts[i] = Op.put(w.key(), w.value(), option);
            reads[i] = Op.get(w.key(), GetOption.DEFAULT);
        }
        try {
            inFlight.acquire();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return CompletableFuture.failedFuture(new CancellationException("the pass was stopped"));
        }
        // released where the answer arrives, never on a pool thread that might itself wait for a permit
        return kv.txn().If(unchanged).Then(puts).Else(reads).commit()
                .orTimeout(settings.timeout().toMillis(), TimeUnit.MILLISECONDS)
                .whenComplete((answer, failure) -> inFlight.release())
                // Off the gRPC event loop: settling may seal values again.
                .handleAsync((response, failure) -> failure == null
                        ? settle(batch, response, policy, tally, attempt)
                        : recover(batch, failure, policy, tally, attempt), pool)
                .thenCompose(next -> next);
    }

    private CompletableFuture<Void> settle(List<Rewrite> batch, TxnResponse response, ValuePolicy policy, Tally tally,
            int attempt) {
        if (response.isSucceeded()) {
            tally.addRewritten(batch.size());
            return CompletableFuture.completedFuture(null);
        }
        List<GetResponse> current = response.getGetResponses();
        List<Rewrite> again = new ArrayList<>();
        int mostChanges = 0;
        boolean anyChanged = false;
        for (int i = 0; i < batch.size(); i++) {
            Rewrite w = batch.get(i);
            List<KeyValue> found = current.get(i).getKvs();
            if (found.isEmpty()) {
                tally.addDeleted(); // deleted meanwhile: nothing left to re-encrypt
                anyChanged = true;
                continue;
            }
            KeyValue latest = found.get(0);
            if (latest.getModRevision() == w.modRevision()) {
                again.add(w);
                continue;
            }
            anyChanged = true;
            int changes = w.changes() + 1;
            Verdict verdict = policy.judge(latest);
            if (verdict instanceof Verdict.Keep) {
                tally.addUnchanged();
            } else if (verdict instanceof Verdict.Unreadable unreadable) {
                tally.addUnreadable(unreadable.etcdKey());
            } else if (verdict instanceof Verdict.Put put) {
                if (changes > MAX_CHANGES) {
                    tally.addLeftUnder(put.from());
                    LOG.log(System.Logger.Level.WARNING, settings.datastore() + " key " + text(w) + " changed " + changes
                            + " times while being re-encrypted and was left as its last writer stored it;"
                            + " run reencrypt again once it settles");
                } else {
                    again.add(Rewrite.of(latest, put, changes));
                    mostChanges = Math.max(mostChanges, changes);
                }
            }
        }
        if (!anyChanged && attempt < EtcdRetry.ATTEMPTS) {
            // kine answers an update its SQL insert lost (another writer took the row) as a failed compare at the
            // key's own revision: the compare still holds, so the same transaction is sent again, a bounded number
            return resend(batch, policy, tally, attempt);
        }
        if (!anyChanged) {
            return CompletableFuture.failedFuture(new StateUnavailable(settings.datastore() + " refused a compare-and-swap "
                    + attempt + " times although no key in it changed; is another tool rewriting these keys with the "
                    + "same revisions? every value written so far is safe: run again to resume from the checkpoint"));
        }
        if (again.isEmpty()) {
            return CompletableFuture.completedFuture(null);
        }
        // First conflict: retry at once (an apiserver rarely writes one key twice in a row); then back off.
        Executor when = mostChanges <= 1 ? pool : CompletableFuture.delayedExecutor(
                ThreadLocalRandom.current().nextLong(1, 2L << Math.min(mostChanges, 5)), TimeUnit.MILLISECONDS, pool);
        return CompletableFuture.supplyAsync(() -> write(again, policy, tally), when).thenCompose(next -> next);
    }

    private CompletableFuture<Void> recover(List<Rewrite> batch, Throwable failure, ValuePolicy policy, Tally tally,
            int attempt) {
        Throwable cause = EtcdRetry.unwrap(failure);
        if (stopped.get()) {
            return CompletableFuture.failedFuture(cause);
        }
        // Either way a smaller transaction helps: a request over etcd's limit, or an Else answer over the client's.
        if (EtcdRetry.isRequestTooLarge(cause) || EtcdRetry.isResponseTooLarge(cause)) {
            if (batch.size() > 1) {
                int half = batch.size() / 2;
                return allOf(List.of(commit(batch.subList(0, half), policy, tally, 1),
                        commit(batch.subList(half, batch.size()), policy, tally, 1)));
            }
            Rewrite w = batch.get(0);
            tally.addLeftUnder(w.from());
            LOG.log(System.Logger.Level.WARNING, settings.datastore() + " key " + text(w) + ": its re-encrypted value (" + w.value().size()
                    + " bytes) is larger than etcd accepts in one request (--max-request-bytes), so it was left as"
                    + " it was; raise --max-request-bytes on etcd, then run reencrypt again");
            return CompletableFuture.completedFuture(null);
        }
        if (EtcdRetry.isTransient(cause) && attempt < EtcdRetry.ATTEMPTS) {
            // Safe to resend even if the lost attempt was applied: its compares would now fail and be settled.
            return resend(batch, policy, tally, attempt);
        }
        return CompletableFuture.failedFuture(new StateUnavailable(settings.datastore() + " did not take a transaction of "
                + batch.size() + " values after " + attempt + " attempts (" + cause + "); every value written so far"
                + " is safe: check " + settings.datastore() + ", then run again to resume from the checkpoint", cause));
    }

    /** The same transaction again, after EtcdRetry's delay for the next attempt. */
    private CompletableFuture<Void> resend(List<Rewrite> batch, ValuePolicy policy, Tally tally, int attempt) {
        Executor later = CompletableFuture.delayedExecutor(EtcdRetry.delayBefore(attempt + 1).toMillis(),
                TimeUnit.MILLISECONDS, pool);
        return CompletableFuture.supplyAsync(() -> commit(batch, policy, tally, attempt + 1), later)
                .thenCompose(next -> next);
    }

    private static String text(Rewrite w) {
        return w.key().toString(StandardCharsets.UTF_8);
    }

    static CompletableFuture<Void> allOf(List<CompletableFuture<Void>> futures) {
        return CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new));
    }
}
