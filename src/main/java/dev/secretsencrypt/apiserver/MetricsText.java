package dev.secretsencrypt.apiserver;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

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

    private static final Pattern DECIMAL = Pattern.compile("[+-]?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?");
    private static final Pattern INTEGER = Pattern.compile("[+-]?[0-9]+");

    /** Parses a whole page. */
    public static MetricsText parse(String page) {
        List<Sample> samples = new ArrayList<>();
        Map<String, MetricType> types = new LinkedHashMap<>();
        Map<String, String> help = new LinkedHashMap<>();
        String[] lines = page.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            // a CRLF page (a proxy in between) reads the same; the format itself is \n-separated
            String text = lines[i].endsWith("\r") ? lines[i].substring(0, lines[i].length() - 1) : lines[i];
            new LineReader(text, i + 1).read(samples, types, help);
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

    /** Reads one line; keeps a cursor, so an error can say the column. */
    private static final class LineReader {
        private final String text;
        private final int line;
        private int at;

        LineReader(String text, int line) {
            this.text = text;
            this.line = line;
        }

        void read(List<Sample> samples, Map<String, MetricType> types, Map<String, String> help) {
            skipBlanks();
            if (at == text.length()) {
                return;
            }
            if (text.charAt(at) == '#') {
                comment(samples, types, help);
                return;
            }
            samples.add(sample());
        }

        // "# HELP name text", "# TYPE name type"; any other comment is skipped.
        private void comment(List<Sample> samples, Map<String, MetricType> types, Map<String, String> help) {
            at++;
            skipBlanks();
            String keyword = word();
            if (!keyword.equals("HELP") && !keyword.equals("TYPE")) {
                return;
            }
            if (!skipBlanks()) {
                throw fail("expected a metric name after # " + keyword);
            }
            String family = metricName();
            if (keyword.equals("HELP")) {
                if (help.containsKey(family)) {
                    throw fail("a second HELP line for " + family);
                }
                help.put(family, at < text.length() && isBlank(text.charAt(at)) ? helpText() : "");
                return;
            }
            if (types.containsKey(family)) {
                throw fail("a second TYPE line for " + family);
            }
            if (samples.stream().anyMatch(s -> s.name().equals(family))) {
                throw fail("the TYPE line for " + family + " comes after its samples");
            }
            skipBlanks();
            int start = at;
            String type = word();
            skipBlanks();
            if (at != text.length()) {
                throw fail("unexpected text after the type");
            }
            types.put(family, MetricType.named(type).orElseThrow(() -> failAt(start, "'" + shortened(type)
                    + "' is not a metric type (counter, gauge, histogram, summary, untyped)")));
        }

        // HELP text: the rest of the line after one blank, with \\ and \n unescaped (any other backslash is kept).
        private String helpText() {
            at++;
            StringBuilder out = new StringBuilder();
            while (at < text.length()) {
                char c = text.charAt(at++);
                if (c == '\\' && at < text.length() && (text.charAt(at) == '\\' || text.charAt(at) == 'n')) {
                    out.append(text.charAt(at++) == 'n' ? '\n' : '\\');
                } else {
                    out.append(c);
                }
            }
            return out.toString();
        }

        private Sample sample() {
            String name = metricName();
            Map<String, String> labels = new LinkedHashMap<>();
            boolean blank = skipBlanks();
            if (at < text.length() && text.charAt(at) == '{') {
                at++;
                labels(labels);
                blank = true; // the closing brace ends the name part: a blank after it is optional
                skipBlanks();
            }
            if (!blank) {
                throw fail("expected a blank before the value");
            }
            int valueStart = at;
            double value = value(word(), valueStart);
            Optional<Long> timestamp = Optional.empty();
            if (skipBlanks() && at < text.length()) {
                int start = at;
                String t = word();
                if (!INTEGER.matcher(t).matches()) {
                    throw failAt(start, "the timestamp is not a whole number of milliseconds");
                }
                try {
                    timestamp = Optional.of(Long.parseLong(t));
                } catch (NumberFormatException e) {
                    throw failAt(start, "the timestamp is out of range");
                }
                skipBlanks();
            }
            if (at != text.length()) {
                throw fail("unexpected text after the sample");
            }
            return new Sample(name, labels, value, timestamp);
        }

        // After '{': name="value" pairs separated by commas, a trailing comma allowed, up to '}'.
        private void labels(Map<String, String> labels) {
            while (true) {
                skipBlanks();
                if (at < text.length() && text.charAt(at) == '}') {
                    at++;
                    return;
                }
                int nameStart = at;
                String label = labelName();
                if (labels.containsKey(label)) {
                    throw failAt(nameStart, "the label " + shortened(label) + " appears twice");
                }
                skipBlanks();
                expect('=');
                skipBlanks();
                expect('"');
                labels.put(label, labelValue());
                skipBlanks();
                if (at < text.length() && text.charAt(at) == ',') {
                    at++;
                } else if (at < text.length() && text.charAt(at) == '}') {
                    at++;
                    return;
                } else {
                    throw fail(at == text.length() ? "the label set is not closed with '}'"
                            : "expected ',' or '}' after a label value");
                }
            }
        }

        // After the opening quote: up to the closing one; \\ \" \n are the only escapes the format has.
        private String labelValue() {
            StringBuilder out = new StringBuilder();
            while (at < text.length()) {
                char c = text.charAt(at++);
                if (c == '"') {
                    return out.toString();
                }
                if (c == '\\') {
                    if (at == text.length()) {
                        break;
                    }
                    char escaped = text.charAt(at);
                    switch (escaped) {
                        case '\\' -> out.append('\\');
                        case '"' -> out.append('"');
                        case 'n' -> out.append('\n');
                        default -> throw fail("'\\" + escaped + "' is not an escape in a label value (\\\\, \\\" and \\n are)");
                    }
                    at++;
                } else {
                    out.append(c);
                }
            }
            throw fail("a label value is not closed with '\"'");
        }

        // Go's ParseFloat, which the format defers to: decimals with exponents, NaN and Inf in any case, signed.
        private double value(String word, int start) {
            String lower = word.toLowerCase(Locale.ROOT);
            switch (lower) {
                case "nan", "+nan", "-nan" -> {
                    return Double.NaN;
                }
                case "inf", "+inf", "infinity", "+infinity" -> {
                    return Double.POSITIVE_INFINITY;
                }
                case "-inf", "-infinity" -> {
                    return Double.NEGATIVE_INFINITY;
                }
                default -> {
                    // the pattern first: Double.parseDouble alone would also take "1d", "0x1p3" and "Infinity  "
                    if (DECIMAL.matcher(word).matches()) {
                        return Double.parseDouble(word);
                    }
                    throw failAt(start, word.isEmpty() ? "no value" : "'" + shortened(word) + "' is not a number");
                }
            }
        }

        private String metricName() {
            int start = at;
            if (at < text.length() && isNameStart(text.charAt(at), true)) {
                at++;
                while (at < text.length() && isNamePart(text.charAt(at), true)) {
                    at++;
                }
                return text.substring(start, at);
            }
            throw fail("expected a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)");
        }

        private String labelName() {
            int start = at;
            if (at < text.length() && isNameStart(text.charAt(at), false)) {
                at++;
                while (at < text.length() && isNamePart(text.charAt(at), false)) {
                    at++;
                }
                return text.substring(start, at);
            }
            throw fail(at == text.length() ? "the label set is not closed with '}'"
                    : "expected a label name ([a-zA-Z_][a-zA-Z0-9_]*)");
        }

        private static boolean isNameStart(char c, boolean colonAllowed) {
            return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colonAllowed && c == ':');
        }

        private static boolean isNamePart(char c, boolean colonAllowed) {
            return isNameStart(c, colonAllowed) || (c >= '0' && c <= '9');
        }

        private static boolean isBlank(char c) {
            return c == ' ' || c == '\t';
        }

        // Up to the next blank or the end of the line.
        private String word() {
            int start = at;
            while (at < text.length() && !isBlank(text.charAt(at))) {
                at++;
            }
            return text.substring(start, at);
        }

        /** Skips blanks and tabs; true if there were any or the line ended. */
        private boolean skipBlanks() {
            int start = at;
            while (at < text.length() && isBlank(text.charAt(at))) {
                at++;
            }
            return at > start || at == text.length();
        }

        private void expect(char c) {
            if (at >= text.length() || text.charAt(at) != c) {
                throw fail("expected '" + c + "'");
            }
            at++;
        }

        private Malformed fail(String reason) {
            return failAt(at, reason);
        }

        private Malformed failAt(int column, String reason) {
            return new Malformed(line, column, reason, text);
        }

        private static String shortened(String s) {
            return s.length() <= 40 ? s : s.substring(0, 40) + "…";
        }
    }
}
