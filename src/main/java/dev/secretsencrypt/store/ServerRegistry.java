package dev.secretsencrypt.store;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

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
    ReportLease keepReportsAlive(String node, Duration ttl, Source reads);

    /** The servers whose agent is running now (its lease alive): what each reads, and what it says is wrong. */
    Map<String, RunningAgent> runningAgents();

    /** A running agent as the others see it: what it reports from, and its problem (why it cannot report), if any. */
    record RunningAgent(Source reads, Optional<String> problem) {
    }

    /** An agent's report lease; it also tells the other servers what keeps this agent from reporting. */
    interface ReportLease extends Ownership {
        /** Publishes (or clears) the agent's problem beside its lease, so rotate-keys and nodes can name it. */
        void tell(Optional<String> problem);

        /** The datastore that keeps it, by name (etcd or kine), for messages about it. */
        default String datastore() {
            return "etcd";
        }
    }

    /** What a report says was loaded: the file as written, or what the server's kube-apiserver itself says. */
    enum Source {
        FILE, APISERVER;

        public String text() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** As stored: {@code apiserver}, else (a sync's {@code file}, or anything unknown) the file. */
        public static Source parse(String text) {
            return APISERVER.text().equals(text) ? APISERVER : FILE;
        }
    }

    /** Who wrote the report: a one-off sync (stays until the next), or an agent (stale once its lease lapses). */
    enum Reporter { SYNC, AGENT }

    /**
     * Which machine reported (the data dir's instance id), when, from what, by whom, and for which kube-apiserver: the
     * name of its identity lease ({@code apiserver-…}), absent in a report made before reports named it.
     */
    record ServerRecord(String instanceId, Instant reportedAt, Source source, Reporter reporter,
                        Optional<String> apiserver) {
    }
}
