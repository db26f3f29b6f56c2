package dev.secretsencrypt.store;

/**
 * Every key of the tool's state under its prefix ({@code /secrets-encrypt/} by default), spelled once: the wrapped
 * state and what opens it, the cluster's id, each server's report, record and agent lease, the servers found with a
 * retired writer, the re-encryption's owner and run record, and the agents' election.
 */
record StateKeys(String prefix) {
    String state() {
        return prefix + "state";
    }

    /** The salt and parameters of the key derived from the token (not secret). */
    String kdf() {
        return prefix + "kdf";
    }

    /** A digest that tells a wrong token from a damaged state. */
    String tokenCheck() {
        return prefix + "token-check";
    }

    String clusterId() {
        return prefix + "cluster-id";
    }

    /** {@code <stage>-<hash>} of each server, by node name. */
    String reports() {
        return prefix + "nodes/";
    }

    /** Who reported, when, from what, for which apiserver (JSON), by node name. */
    String records() {
        return prefix + "node-info/";
    }

    /** On the lease of a server's running agent: what it reads and its problem (JSON), by node name. */
    String alive() {
        return prefix + "alive/";
    }

    /** Servers found with a retired key as their file's writer, by node name. */
    String findings() {
        return prefix + "retired-key-in-use/";
    }

    String owner() {
        return prefix + "reencrypt/owner";
    }

    String runRecord() {
        return prefix + "reencrypt/run";
    }

    String leaderElection() {
        return prefix + "agent-leader";
    }

    /** The node name of a key under one of the per-server directories above. */
    static String nodeOf(String key, String directory) {
        return key.substring(directory.length());
    }
}
