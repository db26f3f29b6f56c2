package dev.secretsencrypt.apiserver;

import dev.secretsencrypt.config.ConfigHash;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One {@code apiserver_encryption_config_controller_last_config_info} sample from a kube-apiserver's
 * {@code /metrics} (1.34 and newer): which apiserver (sha256 of its identity) loaded which config file.
 *
 * <pre>{@code
 * apiserver_encryption_config_controller_last_config_info{apiserver_id_hash="sha256:3f…",hash="sha256:9a…"} 1
 * }</pre>
 */
public record LastConfigInfo(String apiserverIdHash, ConfigHash hash) {

    public static final String METRIC = "apiserver_encryption_config_controller_last_config_info";

    /**
     * Every sample of the metric in a Prometheus text exposition; none when the server does not export it.
     *
     * @throws MetricsText.Malformed when the page is not in the text format
     */
    public static List<LastConfigInfo> parse(String metricsText) {
        return from(MetricsText.parse(metricsText));
    }

    /** Every sample of the metric on an already parsed page; one whose hash label is not a sha256 digest is left out. */
    public static List<LastConfigInfo> from(MetricsText page) {
        List<LastConfigInfo> found = new ArrayList<>();
        for (MetricsText.Sample s : page.samples(METRIC)) {
            ConfigHash.fromLabel(s.label("hash").orElse(""))
                    .ifPresent(h -> found.add(new LastConfigInfo(s.label("apiserver_id_hash").orElse(""), h)));
        }
        return List.copyOf(found);
    }

    /** The one sample a single kube-apiserver exports, if it has loaded a config. */
    public static Optional<LastConfigInfo> single(String metricsText) {
        List<LastConfigInfo> all = parse(metricsText);
        return all.size() == 1 ? Optional.of(all.get(0)) : Optional.empty();
    }
}
