package dev.secretsencrypt.usecase;

import dev.secretsencrypt.certs.CertificateRecord;
import dev.secretsencrypt.certs.Inspection;
import dev.secretsencrypt.certs.PkiFiles;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The certificates of this server's PKI files and, with the datastore, of every Secret holding PEM certificates,
 * each judged against the warning period: what {@code certs} prints and what the agent exports as metrics.
 */
public final class CertificateCheck {
    /** Flag what expires within this long, unless told otherwise ({@code certs --warn}). */
    public static final Duration DEFAULT_WARN = Duration.ofDays(30);

    private CertificateCheck() {
    }

    /** The certificates found, what was skipped on the way, and what the cluster's Secrets gave (when read). */
    public record Report(List<CertificateRecord> records, List<String> warnings,
                         Optional<ClusterCertificates.Read> cluster) {
        public Report {
            records = List.copyOf(records);
            warnings = List.copyOf(warnings);
        }
    }

    /**
     * Reads the PEM files under {@code roots}; with {@code cluster}, every stored Secret too.
     *
     * @throws PkiFiles.MissingPath when a path given explicitly does not exist
     */
    public static Report run(List<PkiFiles.Root> roots, Duration warn, Instant now,
                             Optional<ClusterCertificates> cluster) throws PkiFiles.MissingPath {
        PkiFiles.Found files = PkiFiles.scan(roots);
        List<CertificateRecord> records = new ArrayList<>(
                new Inspection(now, warn, files.authorities()).inspect(files.sources()));
        List<String> warnings = new ArrayList<>(files.warnings());
        Optional<ClusterCertificates.Read> read = cluster.map(ClusterCertificates::read);
        read.ifPresent(c -> {
            // a Secret's chain is judged by its own ca.crt only: a file CA on this server says nothing about it
            records.addAll(new Inspection(now, warn, List.of()).inspect(c.sources()));
            c.skipped().forEach(n -> warnings.add("skipped " + n));
        });
        return new Report(records, warnings, read);
    }
}
