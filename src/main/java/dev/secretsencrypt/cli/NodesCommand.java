package dev.secretsencrypt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.secretsencrypt.store.ServerRegistry;
import dev.secretsencrypt.usecase.Servers;
import dev.secretsencrypt.usecase.Session;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "nodes", mixinStandardHelpOptions = true, subcommands = NodesCommand.Forget.class,
        description = {"List the servers of the cluster, their reports, and which must reload the file.", "",
                "A server is registered by its first sync; 'nodes forget NAME' removes one that is gone for good."})
final class NodesCommand extends StateCommand {
    @Option(names = {"-o", "--output"}, defaultValue = "text", paramLabel = "FORMAT",
            description = "text or json. Default: ${DEFAULT-VALUE}")
    StatusCommand.Format output;

    @Override
    Reply run(Session session) throws Exception {
        List<Servers.Server> servers = session.servers().list();
        if (output == StatusCommand.Format.json) {
            List<Map<String, Object>> rows = servers.stream().map(NodesCommand::json).toList();
            return Reply.ok(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(rows));
        }
        Columns table = new Columns().row("Name", "Report", "Source", "Age", "Loaded").row("----", "------", "------",
                "---", "------");
        servers.forEach(s -> table.row(s.name(), s.report().value(), s.source().map(ServerRegistry.Source::text).orElse("-"),
                s.age().map(NodesCommand::age).orElse("-"), loaded(s)));
        StringBuilder out = new StringBuilder(table.render().stripTrailing());
        session.servers().cautions().forEach(c -> out.append("\n\nAlso: ").append(c));
        return Reply.ok(out.toString());
    }

    private static String loaded(Servers.Server s) {
        if (s.stale()) {
            return "stale: agent gone";
        }
        if (s.agentProblem().isPresent()) {
            return "unknown: agent cannot report"; // the cautions below say why
        }
        return s.mustReload() ? "needs restart" : "yes";
    }

    private static Map<String, Object> json(Servers.Server s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", s.name());
        m.put("report", s.report().value());
        s.apiserver().ifPresent(a -> m.put("apiserver", a));
        m.put("source", s.source().map(ServerRegistry.Source::text).orElse(null));
        m.put("stale", s.stale());
        m.put("ageseconds", s.age().map(Duration::toSeconds).orElse(null));
        m.put("mustreload", s.mustReload());
        s.agentProblem().ifPresent(p -> m.put("agentproblem", p));
        return m;
    }

    static String age(Duration d) {
        long seconds = Math.max(0, d.toSeconds());
        if (seconds < 120) {
            return seconds + "s";
        }
        if (seconds < 7200) {
            return seconds / 60 + "m";
        }
        return seconds < 172_800 ? seconds / 3600 + "h" : seconds / 86_400 + "d";
    }

    @Command(name = "forget", mixinStandardHelpOptions = true,
            description = {"Remove a decommissioned server from every check.", "",
                    "Only for a server gone for good: a running one registers again at its next sync."})
    static final class Forget extends StateCommand {
        @Parameters(paramLabel = "NAME", description = "The node name, as nodes lists it")
        String name;

        @Override
        Reply run(Session session) {
            return Reply.ok(session.servers().forget(name));
        }
    }
}
