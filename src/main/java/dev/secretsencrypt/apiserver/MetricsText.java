package dev.secretsencrypt.apiserver;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A page in the Prometheus text exposition format (version 0.0.4, what kube-apiserver's {@code /metrics} answers to
 * {@code Accept: text/plain;version=0.0.4}), parsed by the format's grammar rather than matched with a regex:
 *
 * <pre>{@code
 * # HELP apiserver_encryption_config_controller_automatic_reloads_total [ALPHA] Total number of reload ...
 * # TYPE apiserver_encryption_config_controller_automatic_reloads_total counter
 * apiserver_encryption_config_controller_automatic_reloads_total{apiserver_id_hash="sha256:3f…",status="success"} 2
 * }</pre>
 *
 * <p>Java's Prometheus libraries (client_java's {@code prometheus-metrics-exposition-textformats}, micrometer) only
 * write this format, none reads it; so this class follows the format's specification (and Go's
 * {@code expfmt.TextParser}, the reference reader): blank lines and plain comments are skipped; {@code # HELP} and
 * {@code # TYPE} lines are kept per family; label values unescape {@code \\ \" \n}; a label set may end with a comma;
 * values include {@code NaN}, {@code +Inf}, {@code -Inf} and exponents; a sample may carry a millisecond timestamp.
 * Anything else is {@link Malformed}, naming the line and column, never quoting more than a short stretch of it.
 */
public record MetricsText(List<Sample> samples, Map<String, MetricType> types, Map<String, String> help) {

    public MetricsText {
        samples = List.copyOf(samples);
        types = Collections.unmodifiableMap(new LinkedHashMap<>(types));
        help = Collections.unmodifiableMap(new LinkedHashMap<>(help));
    }

    /** One line's measurement: {@code name{labels} value [timestamp]}. Labels keep the page's order. */
    public record Sample(String name, Map<String, String> labels, double value, Optional<Long> timestampMillis) {
        public Sample {
            labels = Collections.unmodifiableMap(new LinkedHashMap<>(labels));
        }

        public Optional<String> label(String labelName) {
            return Optional.ofNullable(labels.get(labelName));
        }

        /** True when every label given is on this sample with that value (other labels may be there too). */
        public boolean has(Map<String, String> wanted) {
            return wanted.entrySet().stream().allMatch(e -> e.getValue().equals(labels.get(e.getKey())));
        }
    }

    /** The types a {@code # TYPE} line may name. */
    public enum MetricType {
        COUNTER, GAUGE, HISTOGRAM, SUMMARY, UNTYPED;

        static Optional<MetricType> named(String word) {
            for (MetricType t : values()) {
                if (t.name().toLowerCase(Locale.ROOT).equals(word)) {
                    return Optional.of(t);
                }
            }
            return Optional.empty();
        }
    }

    /** The page is not in the text format; {@code line} is 1-based. The message never holds a long stretch of the page. */
    public static final class Malformed extends IllegalArgumentException {
        private static final long serialVersionUID = 1L;
        private final int line;

        Malformed(int line, int column, String reason, String text) {
            super("line " + line + ", column " + (column + 1) + ": " + reason + near(text, column));
            this.line = line;
        }

        public int line() {
            return line;
        }

        // A short window around the fault, control characters shown as '?': enough to find it, never a whole long line.
        private static String near(String text, int column) {
            int from = Math.max(0, Math.min(column, text.length()) - 20);
            int to = Math.min(text.length(), from + 50);
            StringBuilder shown = new StringBuilder();
            text.substring(from, to).codePoints().forEach(c -> shown.appendCodePoint(Character.isISOControl(c) ? '?' : c));
            return " (near \"" + (from > 0 ? "…" : "") + shown + (to < text.length() ? "…" : "") + "\")";
        }
    }

    /** Parses a whole page. */
    public static MetricsText parse(String page) {
        List<Sample> samples = new ArrayList<>();
        Map<String, MetricType> types = new LinkedHashMap<>();
        Map<String, String> help = new LinkedHashMap<>();
        String[] lines = page.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            // a CRLF page (a proxy in between) reads the same; the format itself is \n-separated
            String text = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            new MetricsLineReader(text, i + 1).read(samples, types, help);
        }
        return new MetricsText(samples, types, help);
    }

    /** Every sample of this exact name (for a histogram: {@code name_bucket}, {@code name_sum}, {@code name_count}). */
    public List<Sample> samples(String name) {
        return samples.stream().filter(s -> s.name().equals(name)).toList();
    }

    /** Every sample of this name that carries these label values. */
    public List<Sample> samples(String name, Map<String, String> labels) {
        return samples.stream().filter(s -> s.name().equals(name) && s.has(labels)).toList();
    }

    public Optional<MetricType> type(String family) {
        return Optional.ofNullable(types.get(family));
    }
}
