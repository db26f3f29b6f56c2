package dev.secretsencrypt.rotation;

/** What one server says it loaded: {@code <stage>-<sha256 of its encryption-config.json bytes>}. */
public record NodeReport(String node, Stage stage, String hash) {
    public String value() {
        return stage.text() + "-" + hash;
    }

    /** Reads {@code rotate-<hex>}; stage names contain '_' but never '-', so the first '-' splits. */
    public static java.util.Optional<NodeReport> parse(String node, String value) {
        int dash = value.indexOf('-');
        if (dash < 0) {
            return java.util.Optional.empty();
        }
        return Stage.parse(value.substring(0, dash)).map(s -> new NodeReport(node, s, value.substring(dash + 1)));
    }
}
