package dev.secretsencrypt.reencrypt;

import io.etcd.jetcd.ByteSequence;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** The running checkpoint of a pass, advanced page by page on the pass's own thread only. */
final class Progress {
    private final Map<String, String> lastKeyDone;
    private long total;
    private long done;
    private long rewritten;
    private long unchanged;
    private long failed;
    private final List<String> unreadable;
    private final Map<String, Long> remaining = new HashMap<>();

    Progress(Checkpoint from) {
        this.lastKeyDone = new TreeMap<>(from.lastKeyDone());
        this.total = from.total();
        this.done = from.done();
        this.rewritten = from.rewritten();
        this.unchanged = from.unchanged();
        this.failed = from.failed();
        this.unreadable = new ArrayList<>(from.unreadable());
    }

    void total(long values) {
        total = values;
    }

    boolean finished(Target target) {
        return Checkpoint.finishedIn(lastKeyDone, target.etcdPrefix());
    }

    /** Where to read from: the prefix itself, or strictly after the last key done. */
    ByteSequence startOf(Target target) {
        String prefix = target.etcdPrefix();
        String last = lastKeyDone.get(prefix);
        if (last == null) {
            return ByteSequence.from(prefix, StandardCharsets.UTF_8);
        }
        if (!last.startsWith(prefix)) {
            throw new IllegalArgumentException("the checkpoint's last key for " + prefix + " is " + last
                    + ", which is not under that prefix: the checkpoint belongs to another configuration;"
                    + " start the pass from scratch");
        }
        return KeyRange.after(last);
    }

    void add(Tally page, int values) {
        done += values;
        rewritten += page.rewritten();
        unchanged += page.unchanged();
        failed += page.failed();
        for (String key : page.unreadable()) {
            if (unreadable.size() < Checkpoint.MAX_UNREADABLE) {
                unreadable.add(key);
            }
        }
        page.remaining().forEach((envelope, count) -> remaining.merge(envelope, count, Long::sum));
    }

    /** Only called once every page up to and including the one ending at {@code key} is written. */
    void advance(String prefix, String key) {
        if (key != null) {
            lastKeyDone.put(prefix, key);
        }
    }

    void finish(String prefix) {
        lastKeyDone.put(prefix, Checkpoint.FINISHED);
    }

    Checkpoint snapshot() {
        return new Checkpoint(lastKeyDone, total, done, rewritten, unchanged, failed, unreadable);
    }

    Map<String, Long> remaining() {
        return remaining;
    }
}
