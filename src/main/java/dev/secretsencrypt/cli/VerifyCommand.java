package dev.secretsencrypt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.node.ServerNode;
import dev.secretsencrypt.reencrypt.ScanResult;
import dev.secretsencrypt.store.ClusterState;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Count stored values per key and list the ones no key can read.", "",
                "Reads every stored value of the encrypted resources (writes nothing); exits 1 if any value "
                + "cannot be read with a configured or retired key."})
final class VerifyCommand extends StateCommand {
    @Option(names = {"-o", "--output"}, defaultValue = "text", paramLabel = "FORMAT",
            description = "text or json. Default: ${DEFAULT-VALUE}")
    StatusCommand.Format output;

    @Option(names = "--resources", split = ",", paramLabel = "RESOURCE",
            description = "Only these resources. Default: every resource the config names")
    List<String> resources;

    @Override
    String run(ServerNode node, ClusterState state) throws Exception {
        ScanResult scan = options.reencryption(node, state, resources).verify();
        String report = output == StatusCommand.Format.json ? json(scan) : text(scan);
        if (scan.unreadableCount() > 0) {
            spec.commandLine().getOut().println(report);
            throw new CommandRefused(scan.unreadableCount() + " stored value(s) cannot be read with any configured or "
                    + "retired key (listed above): restore the key that wrote them, or delete those objects");
        }
        return report;
    }

    static String text(ScanResult scan) {
        Columns table = new Columns().row("Key", "Values").row("---", "------");
        new TreeMap<>(scan.countsByEnvelope()).forEach((key, n) -> table.row(key, Long.toString(n)));
        StringBuilder out = new StringBuilder("Stored values: " + scan.total() + "\n\n" + table.render());
        out.append("\nUnreadable values: ").append(scan.unreadableCount());
        scan.unreadable().forEach(k -> out.append("\n  ").append(k));
        return out.toString();
    }

    static String json(ScanResult scan) throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("total", scan.total());
        out.put("keys", new TreeMap<>(scan.countsByEnvelope()));
        out.put("unreadablecount", scan.unreadableCount());
        out.put("unreadable", scan.unreadable());
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out);
    }
}
