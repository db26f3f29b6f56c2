package dev.secretsencrypt.certs;

import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The certificates of one stored Secret: every data value holding PEM certificates (tls.crt, KES's public.crt,
 * ca.crt), each with the private key beside it (tls.key, private.key) and the Secret's ca.crt as its bundle.
 */
public final class SecretCertificates {
    private SecretCertificates() {
    }

    /**
     * A legacy service-account token Secret holds a copy of the cluster CA that kube-controller-manager keeps in step
     * with its --root-ca-file (checked on the server): listing it once per ServiceAccount would bury the report.
     */
    static final String SERVICE_ACCOUNT_TOKEN = "kubernetes.io/service-account-token";

    public static List<CertificateSource> of(StoredSecret secret) {
        if (SERVICE_ACCOUNT_TOKEN.equals(secret.type())) {
            return List.of();
        }
        Map<String, PemContents> pem = new TreeMap<>();
        secret.data().forEach((key, value) -> {
            if (PemContents.hasPem(value)) {
                pem.put(key, PemContents.parse(value));
            }
        });
        List<String> names = List.copyOf(pem.keySet());
        List<String> withKeys = names.stream().filter(n -> !pem.get(n).privateKeys().isEmpty()).toList();
        List<String> withCerts = names.stream().filter(n -> !pem.get(n).certificates().isEmpty()).toList();
        List<String> served = withCerts.stream().filter(n -> !n.equals("ca.crt")).toList();
        Optional<CertificateSource.Bundle> bundle = Optional.ofNullable(pem.get("ca.crt"))
                .filter(p -> !p.certificates().isEmpty())
                .map(p -> new CertificateSource.Bundle("ca.crt of " + secret.namespace() + "/" + secret.name(),
                        p.certificates()));
        List<CertificateSource> sources = new ArrayList<>();
        for (String name : withCerts) {
            PemContents contents = pem.get(name);
            List<X509Certificate> certs = contents.certificates();
            Location where = new Location.InSecret(secret.namespace(), secret.name(), name);
            if (name.equals("ca.crt")) {
                // the bundle itself: its certificates are checked for dates only, none of them is served
                sources.add(new CertificateSource(where, certs, Optional.empty(), Optional.empty()));
                continue;
            }
            Optional<CertificateSource.PairedKey> key = keyFor(name, contents, pem, withKeys, served.size() == 1);
            sources.add(new CertificateSource(where, certs, key, bundle));
        }
        return sources;
    }

    /** The data keys that hold a PEM certificate block no parser can read: said as a warning, never skipped silently. */
    public static List<String> unparseable(StoredSecret secret) {
        return secret.data().entrySet().stream()
                .filter(e -> PemContents.hasCertificate(e.getValue()))
                .filter(e -> PemContents.parse(e.getValue()).certificates().isEmpty())
                .map(Map.Entry::getKey).sorted().toList();
    }

    private static Optional<CertificateSource.PairedKey> keyFor(String name, PemContents contents,
            Map<String, PemContents> pem, List<String> withKeys, boolean onlyCertificate) {
        if (!contents.privateKeys().isEmpty()) {
            return Optional.of(new CertificateSource.PairedKey(contents.privateKeys().get(0), name));
        }
        Optional<String> byName = KeyPairing.firstPresent(KeyPairing.keyNamesFor(name), withKeys);
        if (byName.isEmpty() && onlyCertificate && withKeys.size() == 1) {
            byName = Optional.of(withKeys.get(0)); // KES: public.crt and private.key, the only pair in the Secret
        }
        return byName.map(k -> new CertificateSource.PairedKey(pem.get(k).privateKeys().get(0), k));
    }
}
