package dev.secretsencrypt.rotation;

import dev.secretsencrypt.config.ConfigHash;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Whether every server reports the cluster's current {@code <stage>-<hash>}. The cluster's own value is a
 * party named {@code cluster}, so a lone server that disagrees with the state is still a mismatch. While a
 * re-encryption runs the file does not change, so there the hash alone counts (a server synced at rotate is current).
 */
public record ServerHashes(Stage stage, Optional<ConfigHash> hash, List<NodeReport> reports, ReportMatch match) {
    public static final String CLUSTER = "cluster";
    private static final Set<Stage> FILE_UNCHANGED = EnumSet.of(Stage.REENCRYPT_REQUEST, Stage.REENCRYPT_ACTIVE);

    public ServerHashes {
        reports = List.copyOf(reports);
    }

    public static ServerHashes of(Stage stage, ConfigHash configHash, List<NodeReport> reports) {
        return new ServerHashes(stage, Optional.of(configHash), reports, FILE_UNCHANGED.contains(stage) ? ReportMatch.CONFIG
                : ReportMatch.CONFIG_AND_STAGE);
    }

    /** Single-server mode before any state is stored: the file on disk is the only party. */
    public static ServerHashes ofFileOnly(List<NodeReport> reports) {
        return reports.stream().findFirst().filter(NodeReport::readable)
                .map(f -> new ServerHashes(f.stage().get(), f.hash(), reports, ReportMatch.CONFIG_AND_STAGE))
                .orElseGet(() -> new ServerHashes(Stage.START, Optional.empty(), reports, ReportMatch.CONFIG_AND_STAGE));
    }

    public boolean allMatch() {
        return mismatch().isEmpty();
    }

    /** Whether this server has not loaded the current config: the one rule, {@link NodeReport#loaded}. */
    public boolean behind(NodeReport report) {
        return hash.map(h -> !report.loaded(stage, h, match)).orElse(true);
    }

    /** What two servers are compared on, to name the first two that disagree with each other. */
    private Function<NodeReport, Object> compared() {
        return match == ReportMatch.CONFIG ? NodeReport::hash : NodeReport::value;
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
            if (r.stale()) {
                return Optional.of("the report of " + r.node() + " is stale: " + NodeReport.STALE_WHY);
            }
        }
        NodeReport first = reports.get(0);
        for (NodeReport r : reports) {
            if (!compared().apply(r).equals(compared().apply(first))) {
                return Optional.of(between(first.node(), r.node()));
            }
        }
        return behind(first) ? Optional.of(between(CLUSTER, first.node())) : Optional.empty();
    }

    private static String between(String a, String b) {
        return "hash does not match between " + a + " and " + b;
    }
}
