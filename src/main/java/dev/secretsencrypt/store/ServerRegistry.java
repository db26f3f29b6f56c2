package dev.secretsencrypt.store;

import java.time.Instant;
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

    /** Which machine reported (the data dir's instance id), when, and from what (its file, or its apiserver). */
    record ServerRecord(String instanceId, Instant reportedAt, String source) {
    }
}
