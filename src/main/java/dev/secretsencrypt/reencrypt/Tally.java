package dev.secretsencrypt.reencrypt;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** The outcome of one page, filled in by several worker threads at once. */
final class Tally {
    private long rewritten;
    private long unchanged;
    private long failed;
    private long deleted;
    private final List<String> unreadable = new ArrayList<>();
    private final Map<String, Long> remaining = new HashMap<>();

    synchronized void addRewritten(int values) {
        rewritten += values;
    }

    synchronized void addUnchanged() {
        unchanged++;
    }

    synchronized void addDeleted() {
        deleted++;
    }

    synchronized void addUnreadable(String etcdKey) {
        failed++;
        unreadable.add(etcdKey);
    }

    /** Readable but not rewritten (kept changing, or too large): still under {@code from}. */
    synchronized void addLeftUnder(String from) {
        failed++;
        if (from != null) {
            remaining.merge(from, 1L, Long::sum);
        }
    }

    synchronized long rewritten() {
        return rewritten;
    }

    synchronized long unchanged() {
        return unchanged;
    }

    synchronized long failed() {
        return failed;
    }

    synchronized long deleted() {
        return deleted;
    }

    /** In key order, since the slices of a page finish in any order. */
    synchronized List<String> unreadable() {
        List<String> sorted = new ArrayList<>(unreadable);
        sorted.sort(null);
        return sorted;
    }

    synchronized Map<String, Long> remaining() {
        return Map.copyOf(remaining);
    }
}
