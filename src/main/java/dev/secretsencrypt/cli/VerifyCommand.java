package dev.secretsencrypt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.secretsencrypt.usecase.Session;
import dev.secretsencrypt.reencrypt.ScanResult;
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
    Reply run(Session session) throws Exception {
        ScanResult scan;
        try (ProgressReport progress = ProgressReport.start("verify", 0, System.err)) {
            scan = session.reencryption(resources == null ? List.of() : resources, progress).verify();
        }
        String report = output == StatusCommand.Format.json ? json(scan) : text(scan);
        if (scan.unreadableCount() > 0) {
            return Reply.failed(report, scan.unreadableCount() + " stored value(s) cannot be read with any configured or "
                    + "retired key (listed above): restore the key that wrote them, or delete those objects");
        }
        if (scan.onlyArchivedCount() > 0) {
            return Reply.failed(report, scan.onlyArchivedCount() + " stored value(s) can be read only with a retired key "
                    + "(listed above), which kube-apiserver no longer has: run reencrypt, which still reads them "
                    + "through the archive and rewrites them under the active key");
        }
        return Reply.ok(report);
    }

    static String text(ScanResult scan) {
        Columns table = new Columns().row("Key", "Values").row("---", "------");
        new TreeMap<>(scan.countsByEnvelope()).forEach((key, n) -> table.row(key, Long.toString(n)));
        StringBuilder out = new StringBuilder("Stored values: " + scan.total() + "\n\n" + table.render());
        out.append("\nUnreadable values: ").append(scan.unreadableCount());
        scan.unreadable().forEach(k -> out.append("\n  ").append(k));
        if (scan.onlyArchivedCount() > 0) {
            out.append("\nReadable only with a retired key (kube-apiserver cannot read them): ")
                    .append(scan.onlyArchivedCount());
            scan.onlyArchived().forEach(k -> out.append("\n  ").append(k));
        }
        return out.toString();
    }

    static String json(ScanResult scan) throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("total", scan.total());
        out.put("keys", new TreeMap<>(scan.countsByEnvelope()));
        out.put("unreadablecount", scan.unreadableCount());
        out.put("unreadable", scan.unreadable());
        out.put("onlyarchivedcount", scan.onlyArchivedCount());
        out.put("onlyarchived", scan.onlyArchived());
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out);
    }
}
