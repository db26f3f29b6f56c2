package dev.secretsencrypt.apiserver;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One {@code apiserver_encryption_config_controller_last_config_info} sample from a kube-apiserver's
 * {@code /metrics} (1.34 and newer): which apiserver (sha256 of its identity) loaded which config file.
 *
 * <pre>{@code
 * apiserver_encryption_config_controller_last_config_info{apiserver_id_hash="sha256:3f…",hash="sha256:9a…"} 1
 * }</pre>
 */
public record LastConfigInfo(String apiserverIdHash, LoadedConfigHash hash) {

    public static final String METRIC = "apiserver_encryption_config_controller_last_config_info";

    /** Every sample of the metric in a Prometheus text exposition; none when the server does not export it. */
    public static List<LastConfigInfo> parse(String metricsText) {
        List<LastConfigInfo> found = new ArrayList<>();
        for (String line : metricsText.split("\n")) {
            if (line.startsWith(METRIC + "{")) {
                Map<String, String> labels = labels(line.substring(METRIC.length() + 1));
                LoadedConfigHash.fromLabel(labels.getOrDefault("hash", ""))
                        .ifPresent(h -> found.add(new LastConfigInfo(labels.getOrDefault("apiserver_id_hash", ""), h)));
            }
        }
        return List.copyOf(found);
    }

    /** The one sample a single kube-apiserver exports, if it has loaded a config. */
    public static Optional<LastConfigInfo> single(String metricsText) {
        List<LastConfigInfo> all = parse(metricsText);
        return all.size() == 1 ? Optional.of(all.get(0)) : Optional.empty();
    }

    // name="value",… up to the closing brace; values may hold \" \\ \n escapes (Prometheus text format).
    private static Map<String, String> labels(String afterBrace) {
        Map<String, String> labels = new LinkedHashMap<>();
        int i = 0;
        while (i < afterBrace.length() && afterBrace.charAt(i) != '}') {
            int eq = afterBrace.indexOf("=\"", i);
            if (eq < 0) {
                break;
            }
            String name = afterBrace.substring(i, eq).trim();
            StringBuilder value = new StringBuilder();
            int j = eq + 2;
            for (; j < afterBrace.length() && afterBrace.charAt(j) != '"'; j++) {
                char c = afterBrace.charAt(j);
                if (c == '\\' && j + 1 < afterBrace.length()) {
                    char next = afterBrace.charAt(++j);
                    value.append(next == 'n' ? '\n' : next);
                } else {
                    value.append(c);
                }
            }
            labels.put(name, value.toString());
            i = j + 1;
            if (i < afterBrace.length() && afterBrace.charAt(i) == ',') {
                i++;
            }
        }
        return labels;
    }
}
