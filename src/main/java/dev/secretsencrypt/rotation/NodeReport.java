package dev.secretsencrypt.rotation;

import dev.secretsencrypt.config.ConfigHash;
import java.util.Optional;

/**
 * What one server says it loaded: {@code <stage>-<sha256 of its encryption-config.json bytes>}. A report that does
 * not parse (damaged, or written by another version) has no stage: it never counts as loaded, and it is named. A
 * report its agent no longer keeps alive is stale: the server may be gone or its apiserver changed since, so it never
 * counts as loaded either.
 */
public record NodeReport(String node, Optional<Stage> stage, Optional<ConfigHash> hash, boolean stale) {
    public static final String UNREADABLE = "unreadable report";
    /** What to do about a stale report, for every message that names one. */
    public static final String STALE_WHY = "its agent stopped renewing it (start secrets-encrypt-agent there, or see "
            + "its /healthz if it runs but lost etcd; or run sync there after restarting kube-apiserver; nodes forget "
            + "removes a server gone for good)";

    public NodeReport {
        if (stage.isPresent() != hash.isPresent()) {
            throw new IllegalArgumentException("a report that parses has both a stage and a hash");
        }
    }

    public NodeReport(String node, Stage stage, ConfigHash hash) {
        this(node, Optional.of(stage), Optional.of(hash), false);
    }

    public static NodeReport unreadable(String node) {
        return new NodeReport(node, Optional.empty(), Optional.empty(), false);
    }

    /** The same report, from an agent whose lease lapsed. */
    public NodeReport asStale() {
        return new NodeReport(node, stage, hash, true);
    }

    public boolean readable() {
        return stage.isPresent();
    }

    public String value() {
        return stage.map(s -> s.text() + "-" + hash.get().hex()).orElse(UNREADABLE);
    }

    /** True only for a fresh, readable report of exactly this config (and this stage, when the stage counts too). */
    public boolean loaded(Stage current, ConfigHash configHash, ReportMatch match) {
        return readable() && !stale && hash.get().equals(configHash)
                && (match == ReportMatch.CONFIG || stage.get() == current);
    }

    /** Reads {@code rotate-<hex>}; stage names contain '_' but never '-', so the first '-' splits. */
    public static NodeReport parse(String node, String value) {
        int dash = value.indexOf('-');
        if (dash < 0) {
            return unreadable(node);
        }
        Optional<Stage> stage = Stage.parse(value.substring(0, dash));
        Optional<ConfigHash> hash = ConfigHash.fromHex(value.substring(dash + 1));
        return stage.isPresent() && hash.isPresent() ? new NodeReport(node, stage.get(), hash.get()) : unreadable(node);
    }
}
