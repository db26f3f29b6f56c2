package dev.secretsencrypt.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.secretsencrypt.certs.CertificateRecord;
import dev.secretsencrypt.certs.ExpirationMetrics;
import dev.secretsencrypt.certs.Finding;
import dev.secretsencrypt.certs.Location;
import dev.secretsencrypt.certs.NextStep;
import dev.secretsencrypt.certs.PkiFiles;
import dev.secretsencrypt.usecase.CertificateCheck;
import dev.secretsencrypt.usecase.ClusterCertificates;
import dev.secretsencrypt.usecase.NodeSettings;
import dev.secretsencrypt.usecase.Session;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "certs", mixinStandardHelpOptions = true,
        description = {"Report every certificate on this server and in the cluster's Secrets that expired or is about to.",
                "",
                "On this server: PEM files under /etc/kubernetes/pki, /var/lib/rancher/*/server/tls and */agent, "
                + "/var/lib/kubelet/pki, the etcd client certificate (--cert) and each PATH. With --endpoints: every "
                + "Secret in etcd holding PEM certificates (tls.crt, public.crt, ca.crt...), decrypted with the "
                + "configured and retired keys. Flags: expired, not yet valid, expiring within --warn, a private key "
                + "beside it that does not match, a chain its CA bundle beside it does not sign. Exits 1 when "
                + "anything is flagged. Never prints a private key."})
final class CertsCommand implements Callable<Integer> {
    enum Format { text, json, prometheus }

    @Mixin
    NodeOptions options;

    @Spec
    CommandSpec spec;

    @Option(names = {"-o", "--output"}, defaultValue = "text", paramLabel = "FORMAT",
            description = "text, json, or prometheus (the expiration metric, for node_exporter's textfile collector). "
                    + "Default: ${DEFAULT-VALUE}")
    Format output;

    @Option(names = "--warn", defaultValue = "30d", paramLabel = "DURATION", converter = WarnPeriod.class,
            description = "Flag certificates expiring within this long (30d, 720h, 1h30m). Default: ${DEFAULT-VALUE}")
    Duration warn;

    @Option(names = "--host-root", defaultValue = "/", paramLabel = "DIR",
            description = "Where the host's / is (run in a container with the host mounted at /host: --host-root "
                    + "/host). Default: ${DEFAULT-VALUE}")
    Path hostRoot;

    @Parameters(paramLabel = "PATH", arity = "0..*",
            description = "More PEM files or directories (searched recursively) to check")
    List<Path> paths = new ArrayList<>();

    Clock clock = Clock.systemUTC();

    @Override
    public Integer call() throws Exception {
        List<PkiFiles.Root> roots = new ArrayList<>(PkiFiles.knownDirectories(hostRoot));
        options.cert().ifPresent(cert -> roots.add(PkiFiles.Root.certificateWithKey(cert, options.key())));
        paths.forEach(p -> roots.add(PkiFiles.Root.given(p)));
        CertificateCheck.Report report;
        NodeSettings settings = options.settings();
        try {
            if (settings.etcd().isPresent()) { // without the datastore certs reads files only: no data dir to open
                try (Session session = Session.open(settings, clock, new SecureRandom(),
                        spec.commandLine().getErr()::println)) {
                    report = CertificateCheck.run(roots, warn, clock.instant(), session.clusterCertificates());
                }
            } else {
                report = CertificateCheck.run(roots, warn, clock.instant(), Optional.empty());
            }
        } catch (PkiFiles.MissingPath missing) {
            throw new CommandLine.ParameterException(spec.commandLine(), missing.getMessage());
        }
        List<CertificateRecord> records = report.records();
        List<String> warnings = report.warnings();
        ClusterCertificates.Read cluster = report.cluster().orElse(null);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        warnings.forEach(w -> err.println("Warning: " + w));
        List<String> unreadable = cluster == null ? List.of() : cluster.unreadable();
        switch (output) {
            case json -> out.println(json(records, cluster, warnings));
            case prometheus -> out.print(ExpirationMetrics.render(records));
            default -> out.println(text(records, cluster));
        }
        out.flush();
        long flagged = records.stream().filter(CertificateRecord::flagged).count();
        if (!unreadable.isEmpty()) {
            err.println("Error: " + unreadable.size() + " Secret(s) could not be opened with any configured or retired "
                    + "key, so their certificates were not checked: run verify, and restore the key that wrote them");
        }
        if (flagged > 0) {
            err.println(flagged + " certificate(s) flagged: renew or fix them (the report says what each needs)");
        }
        err.flush();
        return flagged > 0 || !unreadable.isEmpty() ? 1 : 0;
    }

    String text(List<CertificateRecord> records, ClusterCertificates.Read cluster) {
        long flagged = records.stream().filter(CertificateRecord::flagged).count();
        StringBuilder s = new StringBuilder();
        s.append("Certificates: ").append(records.size()).append(" checked, ").append(flagged).append(" flagged")
                .append(" (expiring = within ").append(warn.toDays()).append(" days)");
        if (cluster != null) {
            s.append("; Secrets read from the datastore: ").append(cluster.secrets());
        }
        s.append("\n\n");
        if (records.isEmpty()) {
            return s.append("No certificate found.").toString();
        }
        Columns table = new Columns().row("Status", "Days", "Not After", "Kind", "Where", "Subject")
                .row("------", "----", "---------", "----", "-----", "-------");
        for (CertificateRecord r : sorted(records)) {
            table.row(r.status(), Long.toString(r.daysLeft()), r.notAfter().truncatedTo(ChronoUnit.SECONDS).toString(),
                    r.ca() ? "CA" : "leaf", where(r), r.subject());
        }
        s.append(table.render());
        List<CertificateRecord> problems = sorted(records).stream().filter(CertificateRecord::flagged).toList();
        if (!problems.isEmpty()) {
            s.append("\nWhat to do:\n");
            for (CertificateRecord r : problems) {
                s.append("\n").append(where(r)).append("\n");
                s.append("  subject ").append(r.subject()).append(", issuer ").append(r.issuer());
                if (!r.sans().isEmpty()) {
                    s.append(", SANs ").append(String.join(" ", r.sans()));
                }
                s.append("\n  valid ").append(r.notBefore()).append(" to ").append(r.notAfter()).append("\n");
                for (Finding f : r.findings()) {
                    s.append("  ").append(f.flag().text()).append(": ").append(f.detail()).append("\n");
                }
                NextStep.of(r).ifPresent(n -> s.append("  next: ").append(n).append("\n"));
            }
        }
        return s.toString().stripTrailing();
    }

    /** Flagged first, then the soonest to expire. */
    private static List<CertificateRecord> sorted(List<CertificateRecord> records) {
        return records.stream().sorted(Comparator.comparing((CertificateRecord r) -> !r.flagged())
                .thenComparing(CertificateRecord::notAfter)).toList();
    }

    private static String where(CertificateRecord r) {
        return r.location().where() + (r.position() > 1 ? " #" + r.position() : "");
    }

    private static Map<String, String> finding(Finding f) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("flag", f.flag().name().toLowerCase(java.util.Locale.ROOT));
        m.put("detail", f.detail());
        return m;
    }

    String json(List<CertificateRecord> records, ClusterCertificates.Read cluster, List<String> warnings)
            throws Exception {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("warnDays", warn.toDays());
        out.put("checked", records.size());
        out.put("flagged", records.stream().filter(CertificateRecord::flagged).count());
        List<Map<String, Object>> certs = new ArrayList<>();
        for (CertificateRecord r : sorted(records)) {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("source", r.location().source());
            if (r.location() instanceof Location.InSecret s) {
                c.put("namespace", s.namespace());
                c.put("name", s.name());
                c.put("key", s.key());
            } else {
                c.put("path", r.location().where());
            }
            c.put("position", r.position());
            c.put("subject", r.subject());
            c.put("issuer", r.issuer());
            c.put("sans", r.sans());
            c.put("notBefore", r.notBefore().toString());
            c.put("notAfter", r.notAfter().toString());
            c.put("daysLeft", r.daysLeft());
            c.put("ca", r.ca());
            c.put("status", r.status());
            c.put("findings", r.findings().stream().map(CertsCommand::finding).toList());
            NextStep.of(r).ifPresent(n -> c.put("next", n));
            certs.add(c);
        }
        out.put("certificates", certs);
        if (cluster != null) {
            out.put("secretsRead", cluster.secrets());
            out.put("unreadableSecrets", cluster.unreadable());
        }
        out.put("warnings", warnings);
        return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(out);
    }
}
