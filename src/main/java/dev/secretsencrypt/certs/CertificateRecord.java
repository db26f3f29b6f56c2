package dev.secretsencrypt.certs;

import java.time.Instant;
import java.util.List;

/**
 * One certificate as the report shows it. {@code position} counts from 1 within its file or value (a chain holds
 * several); {@code daysLeft} is whole days until notAfter, negative once expired.
 */
public record CertificateRecord(Location location, int position, String subject, String issuer, List<String> sans,
                                Instant notBefore, Instant notAfter, long daysLeft, boolean ca,
                                List<Finding> findings) {
    public CertificateRecord {
        sans = List.copyOf(sans);
        findings = List.copyOf(findings);
    }

    public boolean flagged() {
        return !findings.isEmpty();
    }

    /** {@code ok}, or every flag: {@code expired, key mismatch}. */
    public String status() {
        return findings.isEmpty() ? "ok" : String.join(", ", findings.stream().map(f -> f.flag().text()).toList());
    }
}
