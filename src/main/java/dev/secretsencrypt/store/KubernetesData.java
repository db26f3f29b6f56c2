package dev.secretsencrypt.store;

import java.util.List;

/** What kube-apiserver stored, as the checks before a pass need it: counts, the newest write, a few values. */
public interface KubernetesData {
    /** How many keys the datastore holds under {@code prefix}. */
    long count(String prefix);

    /** The highest mod_revision of the keys under {@code prefix}: it moves whenever one of them is written. */
    long newestRevision(String prefix);

    /** The values of the first {@code limit} keys under {@code prefix}, in key order. */
    List<byte[]> values(String prefix, int limit);
}
