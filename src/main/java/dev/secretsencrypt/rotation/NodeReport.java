package dev.secretsencrypt.rotation;

import java.util.Optional;

/**
 * What one server says it loaded: {@code <stage>-<sha256 of its encryption-config.json bytes>}. A report that does
 * not parse (damaged, or written by another version) has no stage: it never counts as loaded, and it is named.
 */
public record NodeReport(String node, Optional<Stage> stage, String hash) {
    public static final String UNREADABLE = "unreadable report";

    public NodeReport(String node, Stage stage, String hash) {
        this(node, Optional.of(stage), hash);
    }

    public static NodeReport unreadable(String node) {
        return new NodeReport(node, Optional.empty(), "");
    }

    public boolean readable() {
        return stage.isPresent();
    }

    public String value() {
        return stage.map(s -> s.text() + "-" + hash).orElse(UNREADABLE);
    }

    /** True only for a readable report of exactly this config (and this stage, when the stage counts too). */
    public boolean loaded(Stage current, String configHash, boolean stageToo) {
        return readable() && hash.equals(configHash) && (!stageToo || stage.get() == current);
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
