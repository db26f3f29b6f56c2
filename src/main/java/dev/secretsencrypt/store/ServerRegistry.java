package dev.secretsencrypt.store;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;

/**
 * The servers of a cluster beside their reports: which machine (instance id) reported last and when, the cluster's
 * own id, and how a server gone for good is removed. A store capability of the etcd state only.
 */
public interface ServerRegistry {
    /** The cluster's id, made when its state was first stored; data dirs record it to know where they belong. */
    String clusterId();

    /** What each server's last report came with, by node name. */
    Map<String, ServerRecord> records();

    void record(String node, ServerRecord record);

    /** Removes a server's report and record; false when there was none. */
    boolean forget(String node);

    /**
     * Keeps {@code node}'s agent reports alive for as long as the returned handle is open and renewed: once its lease
     * lapses (the agent stopped, or lost etcd for {@code ttl}), its report reads as stale and never as loaded.
     * {@code reads} says what that agent reports from (its apiserver, or nothing but the file).
     */
    Ownership keepReportsAlive(String node, Duration ttl, Source reads);

    /** The servers whose agent is running now (its lease alive), and what each reads. */
    Map<String, Source> runningAgents();

    /** What a report says was loaded: the file as written, or what the server's kube-apiserver itself says. */
    enum Source {
        FILE, APISERVER;

        public String text() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** Who wrote the report: a one-off sync (stays until the next), or an agent (stale once its lease lapses). */
    enum Reporter { SYNC, AGENT }

    /** Which machine reported (the data dir's instance id), when, from what, and by whom. */
    record ServerRecord(String instanceId, Instant reportedAt, Source source, Reporter reporter) {
    }
}
