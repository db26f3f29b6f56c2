package dev.secretsencrypt.store;

import java.time.Instant;
import java.util.List;

/**
 * Servers found holding a retired key in their file: their kube-apiserver may have written Secrets with it, which
 * no other server can read, until a re-encryption rewrites them (it reads through the retired keys). Recorded in
 * the cluster state so every server's status says so, and cleared by the first clean pass that began after it.
 */
public interface RetiredKeysInUse {
    /**
     * One server's finding: the retired keys' names ({@code aescbc/aescbckey}, never their secrets), when, which file;
     * {@code revision} is the datastore's, so a finding written again after it was read is never cleared by mistake.
     */
    record Finding(String node, List<String> keys, Instant foundAt, String file, long revision) {
        public Finding {
            keys = List.copyOf(keys);
        }
    }

    void found(Finding finding);

    List<Finding> findings();

    /** Clears these findings, each only if it was not written again since it was read. */
    void resolved(List<Finding> seen);
}
