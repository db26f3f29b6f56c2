package dev.secretsencrypt.rotation;

import java.util.List;
import java.util.Optional;

/**
 * Whether every server reports the cluster's current {@code <stage>-<hash>}. The cluster's own value is a
 * party named {@code cluster}, so a lone server that disagrees with the state is still a mismatch.
 */
public record ServerHashes(String expected, List<NodeReport> reports) {
    public static final String CLUSTER = "cluster";

    public ServerHashes {
        reports = List.copyOf(reports);
    }

    public static ServerHashes of(Stage stage, String configHash, List<NodeReport> reports) {
        return new ServerHashes(stage.text() + "-" + configHash, reports);
    }

    public boolean allMatch() {
        return mismatch().isEmpty();
    }

    /**
     * {@code hash does not match between <a> and <b>}: two servers that disagree with each other (as K3s says
     * it), or else the cluster and a server whose agreeing peers are all behind the cluster's current value.
     */
    public Optional<String> mismatch() {
        if (reports.isEmpty()) {
            return Optional.of("no server has reported its hash yet: run sync on every server");
        }
        for (NodeReport r : reports) {
            if (!r.readable()) {
                return Optional.of("the report of " + r.node() + " does not parse (damaged, or written by another "
                        + "version): run sync on " + r.node());
            }
        }
        NodeReport first = reports.get(0);
        for (NodeReport r : reports) {
            if (!r.value().equals(first.value())) {
                return Optional.of(between(first.node(), r.node()));
            }
        }
        return first.value().equals(expected) ? Optional.empty() : Optional.of(between(CLUSTER, first.node()));
    }

    private static String between(String a, String b) {
        return "hash does not match between " + a + " and " + b;
    }
}
