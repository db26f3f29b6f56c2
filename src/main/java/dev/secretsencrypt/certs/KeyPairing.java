package dev.secretsencrypt.certs;

import java.util.List;
import java.util.Optional;

/** Which private key file or Secret key goes with a certificate's, by the names the usual tools give them. */
final class KeyPairing {
    private KeyPairing() {
    }

    /** tls.crt/tls.key, apiserver.crt/apiserver.key, server.pem/server-key.pem (cfssl), cert.pem/key.pem. */
    static List<String> keyNamesFor(String certName) {
        String base = certName.replaceFirst("\\.(crt|pem|cert|cer)$", "");
        if (base.equals(certName)) {
            return List.of();
        }
        List<String> names = new java.util.ArrayList<>(List.of(base + ".key", base + "-key.pem", base + ".key.pem"));
        if (certName.equals("cert.pem")) {
            names.add("key.pem");
        }
        return names;
    }

    static boolean isBundleName(String name) {
        return name.equals("ca.crt") || name.equals("ca.pem");
    }

    static Optional<String> firstPresent(List<String> candidates, List<String> present) {
        return candidates.stream().filter(present::contains).findFirst();
    }
}
