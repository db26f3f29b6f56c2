package dev.secretsencrypt.certs;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import javax.security.auth.x500.X500Principal;

/** Turns what was found into certificate records with their flags: dates, key pairing, chains. Pure. */
public final class Inspection {
    private static final int MAX_CHAIN = 8;

    private final Instant now;
    private final Duration warn;
    private final List<X509Certificate> knownAuthorities;

    /**
     * {@code knownAuthorities}: the CA certificates found anywhere in the same scan, so that front-proxy-client.crt
     * beside a ca.crt that never signed it still verifies against front-proxy-ca.crt.
     */
    public Inspection(Instant now, Duration warn, List<X509Certificate> knownAuthorities) {
        this.now = now;
        this.warn = warn;
        this.knownAuthorities = List.copyOf(knownAuthorities);
    }

    public List<CertificateRecord> inspect(Collection<CertificateSource> sources) {
        List<CertificateRecord> records = new ArrayList<>();
        for (CertificateSource source : sources) {
            List<X509Certificate> certs = source.certificates();
            for (int i = 0; i < certs.size(); i++) {
                X509Certificate cert = certs.get(i);
                List<Finding> findings = new ArrayList<>(dateFindings(cert));
                if (i == 0) {
                    source.key().flatMap(k -> keyFinding(cert, k)).ifPresent(findings::add);
                    source.bundle().flatMap(b -> chainFinding(cert, certs, b)).ifPresent(findings::add);
                }
                records.add(new CertificateRecord(source.location(), i + 1, name(cert.getSubjectX500Principal()),
                        name(cert.getIssuerX500Principal()), sans(cert), cert.getNotBefore().toInstant(),
                        cert.getNotAfter().toInstant(), daysLeft(cert), isCa(cert), findings));
            }
        }
        return records;
    }

    private long daysLeft(X509Certificate cert) {
        // whole days, as kubeadm's check-expiration counts them: 2 days 5 hours ago is -2, not -3
        return Duration.between(now, cert.getNotAfter().toInstant()).toDays();
    }

    private List<Finding> dateFindings(X509Certificate cert) {
        Instant notAfter = cert.getNotAfter().toInstant();
        Instant notBefore = cert.getNotBefore().toInstant();
        if (now.isAfter(notAfter)) {
            return List.of(new Finding(Flag.EXPIRED, "expired " + notAfter + ", " + -daysLeft(cert) + " day(s) ago"));
        }
        if (now.isBefore(notBefore)) {
            return List.of(new Finding(Flag.NOT_YET_VALID, "valid only from " + notBefore
                    + ": this server's clock or the issuer's is wrong, or it was issued for later"));
        }
        if (!now.plus(warn).isBefore(notAfter)) {
            return List.of(new Finding(Flag.EXPIRING, "expires " + notAfter + ", in " + daysLeft(cert)
                    + " day(s) (warning at " + warn.toDays() + " days)"));
        }
        return List.of();
    }

    /** Signs a random challenge with the key and checks it with the certificate: works for RSA, EC and EdDSA alike. */
    private static Optional<Finding> keyFinding(X509Certificate cert, CertificateSource.PairedKey paired) {
        PublicKey publicKey = cert.getPublicKey();
        PrivateKey key = paired.key();
        Optional<String> algorithm = signatureAlgorithm(key.getAlgorithm());
        if (algorithm.isEmpty()) {
            return Optional.empty(); // a key type this check does not know: say nothing rather than guess
        }
        Finding mismatch = new Finding(Flag.KEY_MISMATCH, "the private key in " + paired.foundIn()
                + " is not the certificate's key: clients will fail the TLS handshake; put the matching key and "
                + "certificate together (reissue both if the key is lost)");
        if (!signatureAlgorithm(publicKey.getAlgorithm()).equals(algorithm)) {
            return Optional.of(mismatch);
        }
        try {
            byte[] challenge = new byte[32];
            new SecureRandom().nextBytes(challenge);
            Signature signer = Signature.getInstance(algorithm.get());
            signer.initSign(key);
            signer.update(challenge);
            byte[] signature = signer.sign();
            Signature verifier = Signature.getInstance(algorithm.get());
            verifier.initVerify(publicKey);
            verifier.update(challenge);
            return verifier.verify(signature) ? Optional.empty() : Optional.of(mismatch);
        } catch (GeneralSecurityException | RuntimeException differentParameters) {
            // an EC key on another curve, or an RSA key the certificate's key cannot verify: not the same key
            return Optional.of(mismatch);
        }
    }

    private static Optional<String> signatureAlgorithm(String keyAlgorithm) {
        return switch (keyAlgorithm) {
            case "RSA" -> Optional.of("SHA256withRSA");
            case "EC", "ECDSA" -> Optional.of("SHA256withECDSA");
            case "Ed25519", "Ed448", "EdDSA" -> Optional.of("EdDSA");
            default -> Optional.empty();
        };
    }

    /**
     * The first certificate must chain, through the certificates after it, to one in the bundle beside it (or to a
     * CA found elsewhere in the scan). A self-signed certificate is a root and is not checked against anything.
     */
    private Optional<Finding> chainFinding(X509Certificate leaf, List<X509Certificate> chain,
                                           CertificateSource.Bundle bundle) {
        if (signedBy(leaf, leaf)) {
            return Optional.empty();
        }
        List<X509Certificate> anchors = new ArrayList<>(bundle.certificates());
        anchors.addAll(knownAuthorities);
        X509Certificate current = leaf;
        for (int depth = 0; depth < MAX_CHAIN; depth++) {
            X509Certificate at = current;
            if (anchors.stream().anyMatch(a -> signedBy(at, a))) {
                return Optional.empty();
            }
            Optional<X509Certificate> next = chain.stream().filter(c -> c != at && signedBy(at, c)).findFirst();
            if (next.isEmpty()) {
                break;
            }
            current = next.get();
        }
        return Optional.of(new Finding(Flag.CHAIN_BROKEN, "no certificate in " + bundle.name() + " signed it (its "
                + "issuer is " + name(current.getIssuerX500Principal()) + "): a CA rotation left half done? Reissue it "
                + "from the CA in " + bundle.name() + ", or put its issuer back in the bundle until it is reissued"));
    }

    private static boolean signedBy(X509Certificate cert, X509Certificate issuer) {
        if (!cert.getIssuerX500Principal().equals(issuer.getSubjectX500Principal())) {
            return false;
        }
        try {
            cert.verify(issuer.getPublicKey());
            return true;
        } catch (GeneralSecurityException | RuntimeException notThisOne) {
            return false;
        }
    }

    static boolean isCa(X509Certificate cert) {
        return cert.getBasicConstraints() >= 0;
    }

    static String name(X500Principal principal) {
        return principal.getName(X500Principal.RFC2253);
    }

    private static List<String> sans(X509Certificate cert) {
        List<String> out = new ArrayList<>();
        try {
            Collection<List<?>> names = cert.getSubjectAlternativeNames();
            if (names == null) {
                return out;
            }
            for (List<?> entry : names) {
                int type = (Integer) entry.get(0);
                Object value = entry.get(1);
                String prefix = switch (type) {
                    case 1 -> "email:";
                    case 2 -> "DNS:";
                    case 6 -> "URI:";
                    case 7 -> "IP:";
                    default -> null;
                };
                if (prefix != null && value instanceof String s) {
                    out.add(prefix + s);
                }
            }
        } catch (CertificateParsingException malformed) {
            out.add("(unreadable SANs)");
        }
        return out;
    }
}
