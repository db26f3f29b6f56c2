package dev.secretsencrypt.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.secretsencrypt.config.ConfigHash;
import dev.secretsencrypt.usecase.RunRecord;
import dev.secretsencrypt.usecase.Session;
import dev.secretsencrypt.usecase.StatusView;
import dev.secretsencrypt.rotation.NodeReport;
import dev.secretsencrypt.rotation.Stage;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Show the stage, the keys and whether every server loaded the current config.", "",
                "Never shows a key's secret."})
final class StatusCommand extends StateCommand {
    enum Format { text, json }

    @Option(names = {"-o", "--output"}, defaultValue = "text", paramLabel = "FORMAT",
            description = "text or json. Default: ${DEFAULT-VALUE}")
    Format output;

    @Override
    Reply run(Session session) {
        StatusView view = session.status();
        return Reply.ok(output == Format.json ? json(view) : text(view));
    }

    static String text(StatusView view) {
        if (!(view instanceof StatusView.Configured v)) {
            return "Encryption Status: Disabled, no configuration file found at "
                    + ((StatusView.NotConfigured) view).lookedAt();
        }
        StringBuilder out = new StringBuilder();
        out.append("Encryption Status: ").append(v.enabled() ? "Enabled" : "Disabled").append('\n');
        out.append("Current Rotation Stage: ").append(v.stage().text()).append('\n');
        v.reencryption().ifPresent(r -> out.append(reencryptionLine(v.stage(), r, v.runGone())).append('\n'));
        out.append("Server Encryption Hashes: ").append(v.hashProblem().orElse("All hashes match")).append("\n\n");
        Columns keys = new Columns().row("Active", "Key Type", "Name").row("------", "--------", "----");
        v.keys().forEach(k -> keys.row(k.active() ? " *" : "", k.type(), k.name()));
        out.append(keys.render());
        if (!v.retiredKeys().isEmpty()) {
            out.append("\nRetired keys (kept wrapped in the cluster state to read restored snapshots):\n");
            v.retiredKeys().forEach(k -> out.append("  ").append(k.type()).append("  ").append(k.name()).append('\n'));
        }
        if (v.clusterMode() && !v.nodes().isEmpty()) {
            Columns nodes = new Columns();
            v.nodes().forEach(n -> nodes.row(n.node(), n.value(), v.reportSource(n.node())
                    .map(src -> "from " + src.text()).orElse(""), n.stale() ? "stale: agent gone"
                    : v.hashes().behind(n) ? "needs restart" : ""));
            out.append('\n').append(nodes.render());
        }
        v.localFile().ifPresent(note -> out.append("\nThis server: ").append(note).append('\n'));
        // the hash line names the first; every other one too, so none hides behind another
        v.cautions().stream().filter(c -> !v.hashProblem().equals(java.util.Optional.of(c)))
                .forEach(c -> out.append("\nAlso: ").append(c).append('\n'));
        out.append("\nRead from ").append(v.source()).append("; this server's file: ").append(v.configFile());
        return out.toString().stripTrailing();
    }

    private static String reencryptionLine(Stage stage, RunRecord r, boolean gone) {
        if (gone) {
            return "Reencryption: " + r.checkpoint().done() + "/" + r.checkpoint().total() + " by " + r.node() + ", "
                    + "stopped: its lease lapsed, so that run is gone; run reencrypt on any server to resume from its "
                    + "checkpoint";
        }
        if (r.status() == RunRecord.Status.STOPPED) {
            return "Reencryption: stopped at " + r.checkpoint().done() + "/" + r.checkpoint().total() + " on " + r.node()
                    + " (" + r.message() + "); run reencrypt on any server to resume from its checkpoint";
        }
        if (r.failed()) {
            return "Reencryption: failed on " + r.node() + ": " + r.message().lines().findFirst().orElse("")
                    + " (reencrypt printed the details; run it again once that is resolved)";
        }
        if (stage == Stage.REENCRYPT_REQUEST) {
            return "Reencryption: requested by " + r.node() + ", waiting for reencrypt on a server";
        }
        return "Reencryption: " + r.checkpoint().done() + "/" + r.checkpoint().total() + " by " + r.node();
    }

    /** K3s's fields ({@code stage, activekey, enable, hashmatch, hasherror, inactivekeys}) plus ours ({@code nodes}, …). */
    static String json(StatusView view) {
        Map<String, Object> out = new LinkedHashMap<>();
        if (!(view instanceof StatusView.Configured v)) {
            // K3s's answer where nothing is set up: stage start, disabled, no keys
            out.put("stage", Stage.START.text());
            out.put("enable", false);
            out.put("hashmatch", false);
            out.put("inactivekeys", List.of());
            out.put("retiredkeys", List.of());
            out.put("nodes", List.of());
            return write(out);
        }
        out.put("stage", v.stage().text());
        v.keys().stream().filter(StatusView.KeyRow::active).findFirst()
                .ifPresent(k -> out.put("activekey", k.type() + " " + k.name()));
        out.put("enable", v.enabled());
        out.put("hashmatch", v.hashProblem().isEmpty());
        v.hashProblem().ifPresent(m -> out.put("hasherror", m));
        // hasherror is K3s's one line; every caution is here, so a retired writer never hides behind a mismatch
        out.put("cautions", v.cautions());
        out.put("inactivekeys", v.keys().stream().filter(k -> !k.active()).map(k -> k.type() + " " + k.name()).toList());
        out.put("retiredkeys", v.retiredKeys().stream().map(k -> k.type() + " " + k.name()).toList());
        v.reencryption().ifPresent(r -> out.put("reencryption", Map.of("node", String.valueOf(r.node()),
                "status", r.status().text(), "done", r.checkpoint().done(), "total", r.checkpoint().total())));
        List<Map<String, Object>> nodes = v.nodes().stream().map(n -> node(n, v)).toList();
        out.put("nodes", nodes);
        return write(out);
    }

    private static String write(Map<String, Object> out) {
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Map<String, Object> node(NodeReport n, StatusView.Configured v) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", n.node());
        m.put("stage", n.stage().map(Stage::text).orElse(NodeReport.UNREADABLE));
        m.put("hash", n.hash().map(ConfigHash::hex).orElse(""));
        v.reportSource(n.node()).ifPresent(src -> m.put("source", src.text()));
        m.put("stale", n.stale());
        return m;
    }
}
