package dev.secretsencrypt.certs;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code secrets_encrypt_certificate_expiration_timestamp_seconds} in the Prometheus text format, one series per
 * certificate, as cert-manager's {@code certmanager_certificate_expiration_timestamp_seconds}: the same alert rules
 * ({@code (metric - time()) < 21*24*3600}) work on both. {@code certs -o prometheus} prints it for node_exporter's
 * textfile collector; the agent serves the same text.
 */
public final class ExpirationMetrics {
    public static final String NAME = "secrets_encrypt_certificate_expiration_timestamp_seconds";
    private static final String HELP = "The date after which the certificate expires, as a Unix timestamp in seconds.";

    private ExpirationMetrics() {
    }

    /**
     * Labels: source (file or secret), namespace, name (a Secret's name, or a file's path), key (the Secret's data
     * key; a file's certificate position when it holds several), subject. A series repeated (the same certificate
     * twice in one file) keeps the earliest expiry: Prometheus rejects duplicate series.
     */
    public static String render(List<CertificateRecord> records) {
        Map<Labels, Double> series = new LinkedHashMap<>();
        for (CertificateRecord r : records) {
            series.merge(labels(r), (double) r.notAfter().getEpochSecond(), Math::min);
        }
        GaugeSnapshot.Builder gauge = GaugeSnapshot.builder().name(NAME).help(HELP);
        series.forEach((labels, value) -> gauge.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder()
                .labels(labels).value(value).build()));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            PrometheusTextFormatWriter.create().write(out, MetricSnapshots.of(gauge.build()));
        } catch (IOException inMemory) {
            throw new UncheckedIOException(inMemory);
        }
        return out.toString(StandardCharsets.UTF_8);
    }

    private static Labels labels(CertificateRecord r) {
        String namespace = "";
        String name;
        String key;
        if (r.location() instanceof Location.InSecret s) {
            namespace = s.namespace();
            name = s.name();
            key = s.key() + (r.position() > 1 ? "#" + r.position() : "");
        } else {
            name = r.location().where();
            key = r.position() > 1 ? "#" + r.position() : "";
        }
        return Labels.of("source", r.location().source(), "namespace", namespace, "name", name, "key", key,
                "subject", r.subject());
    }
}
