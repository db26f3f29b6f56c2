package dev.secretsencrypt.reencrypt;

import io.etcd.jetcd.KeyValue;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * One page: cut into slices of one transaction's worth, each judged (opened, sealed) on a worker thread and
 * written as soon as it is ready, so the crypto of one slice overlaps the transactions of the others.
 */
final class PageWork {
    private final ValuePolicy policy;
    private final CasWriter writer;
    private final Executor pool;
    private final int sliceSize;

    PageWork(ValuePolicy policy, CasWriter writer, Executor pool, int sliceSize) {
        this.policy = policy;
        this.writer = writer;
        this.pool = pool;
        this.sliceSize = sliceSize;
    }

    CompletableFuture<Tally> start(List<KeyValue> values) {
        Tally tally = new Tally();
        List<CompletableFuture<Void>> slices = new ArrayList<>();
        for (int from = 0; from < values.size(); from += sliceSize) {
            List<KeyValue> slice = values.subList(from, Math.min(values.size(), from + sliceSize));
            slices.add(CompletableFuture.supplyAsync(() -> judge(slice, tally), pool)
                    .thenCompose(writes -> writer.write(writes, policy, tally)));
        }
        return CasWriter.allOf(slices).thenApply(done -> tally);
    }

    private List<Rewrite> judge(List<KeyValue> slice, Tally tally) {
        List<Rewrite> writes = new ArrayList<>(slice.size());
        for (KeyValue stored : slice) {
            Verdict verdict = policy.judge(stored);
            if (verdict instanceof Verdict.Put put) {
                writes.add(Rewrite.of(stored, put, 0));
            } else if (verdict instanceof Verdict.Unreadable unreadable) {
                tally.addUnreadable(unreadable.etcdKey());
            } else {
                tally.addUnchanged();
            }
        }
        return writes;
    }
}
