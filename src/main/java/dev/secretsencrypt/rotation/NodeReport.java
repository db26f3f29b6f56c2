package dev.secretsencrypt.rotation;

import java.util.Optional;

/**
 * What one server says it loaded: {@code <stage>-<sha256 of its encryption-config.json bytes>}. A report that does
 * not parse (damaged, or written by another version) has no stage: it never counts as loaded, and it is named. A
 * report its agent no longer keeps alive is stale: the server may be gone or its apiserver changed since, so it never
 * counts as loaded either.
 */
public record NodeReport(String node, Optional<Stage> stage, String hash, boolean stale) {
    public static final String UNREADABLE = "unreadable report";
    /** What to do about a stale report, for every message that names one. */
    public static final String STALE_WHY = "its agent stopped renewing it (start secrets-encrypt-agent there, or see "
            + "its /healthz if it runs but lost etcd; or run sync there after restarting kube-apiserver; nodes forget "
            + "removes a server gone for good)";

    public NodeReport(String node, Stage stage, String hash) {
        this(node, Optional.of(stage), hash, false);
    }

    public static NodeReport unreadable(String node) {
        return new NodeReport(node, Optional.empty(), "", false);
    }

    /** The same report, from an agent whose lease lapsed. */
    public NodeReport asStale() {
        return new NodeReport(node, stage, hash, true);
    }

    public boolean readable() {
        return stage.isPresent();
    }

    public String value() {
        return stage.map(s -> s.text() + "-" + hash).orElse(UNREADABLE);
    }

    /** True only for a fresh, readable report of exactly this config (and this stage, when the stage counts too). */
    public boolean loaded(Stage current, String configHash, ReportMatch match) {
        return readable() && !stale && hash.equals(configHash) && (match == ReportMatch.CONFIG || stage.get() == current);
    }

    /** Reads {@code rotate-<hex>}; stage names contain '_' but never '-', so the first '-' splits. */
    public static NodeReport parse(String node, String value) {
        int dash = value.indexOf('-');
        if (dash < 0 || dash == value.length() - 1) {
            return unreadable(node);
        }
        return Stage.parse(value.substring(0, dash)).map(s -> new NodeReport(node, s, value.substring(dash + 1)))
                .orElseGet(() -> unreadable(node));
    }
}
