package dev.secretsencrypt.certs;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The certificates of one file or Secret value, in order (the first is the one it serves, the rest its chain),
 * with what lies beside them: the private key that should go with the first certificate, and the CA bundle it
 * should verify against ({@code ca.crt} in the same Secret, {@code ca.crt}/{@code ca.pem} in the same directory).
 */
public record CertificateSource(Location location, List<X509Certificate> certificates, Optional<PairedKey> key,
                                Optional<Bundle> bundle) {
    public CertificateSource {
        Objects.requireNonNull(location, "location");
        certificates = List.copyOf(certificates);
    }

    /** A private key and where it was found ({@code tls.key}, a path, or "the same file"); never printed itself. */
    public record PairedKey(PrivateKey key, String foundIn) {
        @Override
        public String toString() {
            return "PairedKey[" + foundIn + "]";
        }
    }

    /** The CA certificates beside a certificate, and what the operator calls them. */
    public record Bundle(String name, List<X509Certificate> certificates) {
        public Bundle {
            certificates = List.copyOf(certificates);
        }
    }
}
