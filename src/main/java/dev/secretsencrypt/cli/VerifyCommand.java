package dev.secretsencrypt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.secretsencrypt.usecase.Session;
import dev.secretsencrypt.reencrypt.ScanResult;
import dev.secretsencrypt.rotation.Stage;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {"Count stored values per key and list the ones no key can read.", "",
                "Reads every stored value of the encrypted resources (writes nothing); its last line says whether "
                + "every value is under the active key. Exits 1 if any value cannot be read with a configured or "
                + "retired key (or only with a retired one), 3 if every value is readable but some are not under "
                + "the active key (plaintext or an older key: run reencrypt), 0 otherwise."})
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
        String next = nextCommand(session.current().rotation().stage());
        String report = output == StatusCommand.Format.json ? json(scan, next) : text(scan, next);
        if (scan.unreadableCount() > 0) {
            return Reply.failed(report, scan.unreadableCount() + " stored value(s) cannot be read with any configured or "
                    + "retired key (listed above): restore the key that wrote them, or delete those objects");
        }
        if (scan.onlyArchivedCount() > 0) {
            return Reply.failed(report, scan.onlyArchivedCount() + " stored value(s) can be read only with a retired key "
                    + "(listed above), which kube-apiserver no longer has: run reencrypt, which still reads them "
                    + "through the archive and rewrites them under the active key");
        }
        if (scan.notUnderWriterCount() > 0) {
            return new Reply(report, Main.EXIT_NOT_UNDER_ACTIVE_KEY, Optional.empty());
        }
        return Reply.ok(report);
    }

    /** What rewrites the values under the active key at this stage: mid-rotation reencrypt, else one that retires none. */
    static String nextCommand(Stage stage) {
        return switch (stage) {
            case ROTATE, REENCRYPT_REQUEST, REENCRYPT_ACTIVE -> "Run reencrypt to rewrite them under it.";
            case START, PREPARE, REENCRYPT_FINISHED -> "Run reencrypt -f --skip to rewrite them under it (it retires no"
                    + " key).";
        };
    }

    /** The last line: whether every value is under the active key, and if not, what they are under and what to run. */
    static String verdict(ScanResult scan, String next) {
        String active = scan.writers().isEmpty() ? "the active key"
                : (scan.writers().size() == 1 ? "the active key " : "the active keys ") + String.join(", ",
                        scan.writers());
        if (scan.total() == 0) {
            return "No stored values under the configured resources.";
        }
        if (scan.notUnderWriterCount() == 0) {
            return scan.unreadableCount() + scan.onlyArchivedCount() == 0
                    ? "Every value is under " + active + "."
                    : "Every readable value is under " + active + "; the values listed above are not readable by "
                    + "kube-apiserver.";
        }
        List<String> parts = new ArrayList<>();
        scan.notUnderWriter().forEach((envelope, n) -> parts.add(n + (envelope.equals("identity")
                ? " plaintext (identity)" : " under " + envelope)));
        return scan.notUnderWriterCount() + " value(s) not under " + active + ": " + String.join(", ", parts) + ". "
                + next;
    }

    static String text(ScanResult scan, String next) {
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
        return out.append("\n").append(verdict(scan, next)).toString();
    }

    static String json(ScanResult scan, String next) throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("total", scan.total());
        out.put("keys", new TreeMap<>(scan.countsByEnvelope()));
        out.put("unreadablecount", scan.unreadableCount());
        out.put("unreadable", scan.unreadable());
        out.put("onlyarchivedcount", scan.onlyArchivedCount());
        out.put("onlyarchived", scan.onlyArchived());
        out.put("activekeys", scan.writers());
        out.put("notunderactivekeycount", scan.notUnderWriterCount());
        out.put("notunderactivekey", scan.notUnderWriter());
        out.put("verdict", verdict(scan, next));
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out);
    }
}
