package dev.secretsencrypt.reencrypt;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a re-encryption pass stands, small enough to store in etcd after every page (plain Jackson: it is a record).
 *
 * <p>{@code lastKeyDone} maps each target's etcd prefix to the last etcd key fully processed, in key order: a
 * resumed pass continues strictly after it. A prefix that is absent has not been started; a prefix mapped to
 * {@link #FINISHED} ({@code ""}, which no key inside a prefix can be) is done. It is a low-water mark: no key is
 * claimed done before every key before it is written, so resuming never skips a value. The counts add up over
 * resumed runs; {@code done} also counts values deleted while the pass ran, so {@code done} = rewritten +
 * unchanged + failed + deleted. {@code unreadable} holds the first {@value #MAX_UNREADABLE} unreadable etcd keys.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Checkpoint(Map<String, String> lastKeyDone, long total, long done, long rewritten, long unchanged,
        long failed, List<String> unreadable) {

    /** The {@code lastKeyDone} of a prefix the pass has finished. */
    public static final String FINISHED = "";
    public static final int MAX_UNREADABLE = 1000;

    public Checkpoint {
        lastKeyDone = lastKeyDone == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(lastKeyDone));
        unreadable = unreadable == null ? List.of()
                : List.copyOf(unreadable.subList(0, Math.min(unreadable.size(), MAX_UNREADABLE)));
    }

    /** Nothing done yet; the pass counts the total when it starts from this. */
    public static Checkpoint start() {
        return new Checkpoint(Map.of(), 0, 0, 0, 0, 0, List.of());
    }

    /** Values read so far by a scan, which keeps no place to resume from: for progress only. */
    public static Checkpoint counted(long valuesRead) {
        return new Checkpoint(Map.of(), 0, valuesRead, 0, 0, 0, List.of());
    }

    /** Whether the pass has gone through every key under {@code etcdPrefix}. */
    public boolean finished(String etcdPrefix) {
        return finishedIn(lastKeyDone, etcdPrefix);
    }

    /** The one rule for "finished", for this record and for the pass's running {@link Progress}. */
    static boolean finishedIn(Map<String, String> lastKeyDone, String etcdPrefix) {
        return FINISHED.equals(lastKeyDone.get(etcdPrefix));
    }

    /** Whether every target's prefix is finished. */
    public boolean finishedAll(List<Target> targets) {
        return targets.stream().allMatch(t -> finished(t.etcdPrefix()));
    }
}
