package dev.secretsencrypt.certs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Secrets encoded by Kubernetes' own serializers (k8s.io/apimachinery, as kube-apiserver stores them), written by
 * testdata/stored-secrets/main.go: the reader must agree with Kubernetes' code, not only with the test's own
 * field numbering. Their certificates and keys are Ed25519, made in Go.
 */
@Tag("unit")
class KubernetesStoredSecretsTest {
    static final Path VECTORS = Path.of("testdata", "stored-secrets", "stored-secrets.tsv");

    record Vector(String name, String form, byte[] stored) {
    }

    static List<Vector> vectors() throws Exception {
        List<Vector> out = new ArrayList<>();
        for (String line : Files.readAllLines(VECTORS, StandardCharsets.UTF_8)) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split("\t");
            out.add(new Vector(f[0], f[1], Base64.getDecoder().decode(f[2])));
        }
        return out;
    }

    @Test
    void bothFormsOfBothSecretsAreReadAsKubernetesWroteThem() throws Exception {
        List<Vector> vectors = vectors();
        assertEquals(4, vectors.size());
        for (Vector v : vectors) {
            StoredSecret s = StoredSecret.decode(v.stored());
            String what = v.name() + "/" + v.form();
            assertEquals(v.form().equals("protobuf"), new String(v.stored(), 0, 4, StandardCharsets.ISO_8859_1)
                    .equals("k8s\0"), what);
            if (v.name().equals("tls")) {
                assertEquals("web", s.namespace(), what);
                assertEquals("web-tls", s.name(), what);
                assertEquals("kubernetes.io/tls", s.type(), what);
                assertEquals(Set.of("tls.crt", "tls.key", "ca.crt"), s.data().keySet(), what);
            } else {
                assertEquals("minio", s.namespace(), what);
                assertEquals("kes-tenant-kes-tls", s.name(), what);
                assertEquals("Opaque", s.type(), what);
                assertEquals(Set.of("public.crt", "private.key"), s.data().keySet(), what);
            }
        }
    }

    @Test
    void theirEd25519CertificatesPairWithTheirKeysAndChainToTheirCa() throws Exception {
        Instant during = Instant.parse("2025-02-01T00:00:00Z");
        for (Vector v : vectors()) {
            List<CertificateRecord> records = new Inspection(during, Duration.ofDays(30), List.of())
                    .inspect(SecretCertificates.of(StoredSecret.decode(v.stored())));
            String what = v.name() + "/" + v.form();
            assertTrue(records.stream().noneMatch(CertificateRecord::flagged), what + ": " + records);
            CertificateRecord leaf = records.stream().filter(r -> !r.ca()).findFirst().orElseThrow();
            assertEquals("CN=vectors-ca", leaf.issuer(), what);
            assertEquals(v.name().equals("tls") ? Instant.parse("2025-04-01T00:00:00Z")
                    : Instant.parse("2026-01-01T00:00:00Z"), leaf.notAfter(), what);
        }
        // a key from the other Secret is told apart: the Ed25519 check really compares keys
        StoredSecret tls = StoredSecret.decode(vectors().get(0).stored());
        StoredSecret kes = StoredSecret.decode(vectors().get(2).stored());
        StoredSecret swapped = new StoredSecret("web", "swapped", "kubernetes.io/tls", java.util.Map.of(
                "tls.crt", tls.data().get("tls.crt"), "tls.key", kes.data().get("private.key")));
        List<CertificateRecord> r = new Inspection(during, Duration.ofDays(30), List.of())
                .inspect(SecretCertificates.of(swapped));
        assertEquals(List.of(Flag.KEY_MISMATCH), r.get(0).findings().stream().map(Finding::flag).toList());
    }
}
