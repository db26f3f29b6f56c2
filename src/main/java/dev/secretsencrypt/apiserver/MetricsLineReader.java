package dev.secretsencrypt.apiserver;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/** Reads one line of a Prometheus text page into {@link MetricsText}; keeps a cursor, so an error can say the column. */
final class MetricsLineReader {
    private static final Pattern DECIMAL = Pattern.compile("[+-]?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?");
    private static final Pattern INTEGER = Pattern.compile("[+-]?[0-9]+");

    private final String text;
    private final int line;
    private int at;

    MetricsLineReader(String text, int line) {
        this.text = text;
        this.line = line;
    }

    void read(List<MetricsText.Sample> samples, Map<String, MetricsText.MetricType> types, Map<String, String> help) {
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
    private void comment(List<MetricsText.Sample> samples, Map<String, MetricsText.MetricType> types, Map<String, String> help) {
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
        types.put(family, MetricsText.MetricType.named(type).orElseThrow(() -> failAt(start, "'" + shortened(type)
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

    private MetricsText.Sample sample() {
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
        return new MetricsText.Sample(name, labels, value, timestamp);
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

    private MetricsText.Malformed fail(String reason) {
        return failAt(at, reason);
    }

    private MetricsText.Malformed failAt(int column, String reason) {
        return new MetricsText.Malformed(line, column, reason, text);
    }

    private static String shortened(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "…";
    }
}
