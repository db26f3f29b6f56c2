package dev.secretsencrypt.store;

import dev.secretsencrypt.failure.CommandRefused;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * Every key of the tool's state under its prefix ({@code /secrets-encrypt/} by default), spelled once: the wrapped
 * state and what opens it, the cluster's id, each server's report, record and agent lease, the servers found with a
 * retired writer, the re-encryption's owner and run record, and the agents' election.
 */
record StateKeys(String prefix) {
    /**
     * The longest key kept on every datastore: kine over MySQL/MariaDB stores keys as VARCHAR(630) and drops a longer
     * one without an error (the put answers OK). etcd keeps far longer keys, but a cluster can move to kine.
     */
    static final int LONGEST_KEY_BYTES = 630;

    /** Every key {@code node} may write under this prefix: the shared ones, its own, and an agents' leader's. */
    List<String> writtenBy(String node) {
        return List.of(state(), kdf(), tokenCheck(), clusterId(), reports() + node, records() + node, alive() + node,
                findings() + node, owner(), runRecord(), leaderElection() + "/kine",
                // etcd's election key: the campaign's lease id, in hex, below the election's name
                leaderElection() + "/" + "f".repeat(16));
    }

    /**
     * Refused when a key of the state ({@code node}'s own too, when given) would be longer than every datastore keeps:
     * a prefix or host name that long is a mistake, and on kine over MySQL/MariaDB a lost report or claim.
     */
    void requireShort(Optional<String> node) {
        int shared = longest("");
        if (shared > LONGEST_KEY_BYTES) {
            throw new CommandRefused("--state-prefix " + shown(prefix) + " makes keys of " + shared + " bytes, longer "
                    + "than the " + LONGEST_KEY_BYTES + " that kine over MySQL/MariaDB keeps (it drops a longer key "
                    + "without an error): give a shorter --state-prefix, the same on every server; nothing was changed");
        }
        int own = node.map(this::longest).orElse(0);
        if (own > LONGEST_KEY_BYTES) {
            throw new CommandRefused("the node name " + shown(node.get()) + " makes keys of " + own + " bytes under "
                    + "--state-prefix " + shown(prefix) + ", longer than the " + LONGEST_KEY_BYTES + " that kine over "
                    + "MySQL/MariaDB keeps (it drops a longer key without an error): give this server a shorter "
                    + "--node-name; nothing was changed");
        }
    }

    private int longest(String node) {
        return writtenBy(node).stream().mapToInt(k -> k.getBytes(StandardCharsets.UTF_8).length).max().orElse(0);
    }

    /** An operator's text in a message: quoted, and cut where it is too long to read. */
    static String shown(String text) {
        return "\"" + (text.length() > 40 ? text.substring(0, 40) + "…" : text) + "\"";
    }

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
