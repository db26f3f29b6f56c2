package dev.secretsencrypt.agent;

import dev.secretsencrypt.reencrypt.Checkpoint;
import dev.secretsencrypt.rotation.Stage;
import dev.secretsencrypt.usecase.Servers;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.snapshots.GaugeSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BooleanSupplier;

/**
 * What the agent last saw, served on its {@code /metrics} in the Prometheus text format. Names, stages, counts and
 * times only: no key secret and no config bytes ever reach this class.
 */
public final class AgentMetrics {
    private volatile Optional<Stage> stage = Optional.empty();
    private volatile BooleanSupplier leader = () -> false;
    private volatile Optional<Checkpoint> pass = Optional.empty();
    private volatile Map<String, Long> valuesByEnvelope = Map.of();
    private volatile List<Servers.Server> servers = List.of();
    private volatile Optional<Instant> lastRotation = Optional.empty();
    private volatile Optional<Boolean> apiserverAnswers = Optional.empty();
    private volatile String certificates = "";

    void stage(Stage now) {
        stage = Optional.of(now);
    }

    /** Asked at each scrape: a term whose lease lapsed stops counting then, not when the leader's round returns. */
    void leader(BooleanSupplier leading) {
        leader = leading;
    }

    void pass(Checkpoint now) {
        pass = Optional.of(now);
    }

    void valuesByEnvelope(Map<String, Long> now) {
        valuesByEnvelope = Map.copyOf(now);
    }

    void servers(List<Servers.Server> now) {
        servers = List.copyOf(now);
    }

    void lastRotation(Optional<Instant> now) {
        lastRotation = now;
    }

    void apiserverAnswers(boolean now) {
        apiserverAnswers = Optional.of(now);
    }

    /** Already rendered by {@code certs/ExpirationMetrics}, the same text {@code certs -o prometheus} prints. */
    void certificates(String text) {
        certificates = text;
    }

    public String render() {
        List<MetricSnapshot> all = new ArrayList<>();
        stage.ifPresent(current -> {
            GaugeSnapshot.Builder g = gauge("secrets_encrypt_stage", "1 for the rotation stage the cluster is in.");
            for (Stage s : Stage.values()) {
                point(g, Labels.of("stage", s.text()), s == current ? 1 : 0);
            }
            all.add(g.build());
        });
        all.add(single("secrets_encrypt_agent_leader", "1 while this agent leads (runs re-encryptions and the schedule).",
                leader.getAsBoolean() ? 1 : 0));
        pass.ifPresent(c -> {
            all.add(single("secrets_encrypt_reencrypt_values_done", "Values the current or last re-encryption pass "
                    + "handled, by this agent.", c.done()));
            all.add(single("secrets_encrypt_reencrypt_values_total", "Values the current or last re-encryption pass "
                    + "covers.", c.total()));
            all.add(single("secrets_encrypt_reencrypt_values_failed", "Values the pass could not read (listed by "
                    + "verify).", c.failed()));
        });
        if (!valuesByEnvelope.isEmpty()) {
            GaugeSnapshot.Builder g = gauge("secrets_encrypt_stored_values", "Stored values by the provider and key "
                    + "that sealed them (identity: plaintext), from the last scan after a pass.");
            valuesByEnvelope.forEach((envelope, n) -> point(g, Labels.of("envelope", envelope), n));
            all.add(g.build());
        }
        if (!servers.isEmpty()) {
            GaugeSnapshot.Builder loaded = gauge("secrets_encrypt_server_loaded", "1 when the server's report is of "
                    + "the current config and fresh.");
            GaugeSnapshot.Builder stale = gauge("secrets_encrypt_server_report_stale", "1 when the server's agent "
                    + "stopped renewing its report.");
            GaugeSnapshot.Builder age = gauge("secrets_encrypt_server_report_age_seconds", "Seconds since the "
                    + "server's report last changed.");
            for (Servers.Server s : servers) {
                Labels node = Labels.of("node", s.name(), "source", s.source().map(src -> src.text()).orElse(""));
                point(loaded, node, s.mustReload() ? 0 : 1);
                point(stale, node, s.stale() ? 1 : 0);
                s.age().ifPresent(a -> point(age, node, a.toMillis() / 1000.0));
            }
            all.add(loaded.build());
            all.add(stale.build());
            all.add(age.build());
        }
        lastRotation.ifPresent(t -> all.add(single("secrets_encrypt_last_rotation_timestamp_seconds", "When the last "
                + "rotation completed (its old key retired), as a Unix timestamp.", t.getEpochSecond())));
        apiserverAnswers.ifPresent(ok -> all.add(single("secrets_encrypt_apiserver_probe_success", "1 when this "
                + "server's kube-apiserver answered the last probe of its /metrics.", ok ? 1 : 0)));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            PrometheusTextFormatWriter.create().write(out, MetricSnapshots.of(all.toArray(MetricSnapshot[]::new)));
        } catch (IOException inMemory) {
            throw new UncheckedIOException(inMemory);
        }
        return out.toString(StandardCharsets.UTF_8) + certificates;
    }

    private static GaugeSnapshot.Builder gauge(String name, String help) {
        return GaugeSnapshot.builder().name(name).help(help);
    }

    private static void point(GaugeSnapshot.Builder g, Labels labels, double value) {
        g.dataPoint(GaugeSnapshot.GaugeDataPointSnapshot.builder().labels(labels).value(value).build());
    }

    private static GaugeSnapshot single(String name, String help, double value) {
        GaugeSnapshot.Builder g = gauge(name, help);
        point(g, Labels.EMPTY, value);
        return g.build();
    }
}
