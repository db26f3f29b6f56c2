package dev.secretsencrypt.certs;

import dev.secretsencrypt.testing.Pki;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class CertificateChecksTest {
    static final Instant NOW = Instant.parse("2026-11-30T08:00:00Z");
    static final Duration DAY = Duration.ofDays(1);
    static final Pki.Issued CA = Pki.ca("CN=test-ca", NOW.minus(DAY.multipliedBy(400)), NOW.plus(DAY.multipliedBy(3000)));

    static List<Flag> flags(CertificateRecord r) {
        return r.findings().stream().map(Finding::flag).toList();
    }

    List<CertificateRecord> inspect(List<CertificateSource> sources) {
        return new Inspection(NOW, Duration.ofDays(30), List.of()).inspect(sources);
    }

    @Test
    void theDatesGiveExpiredExpiringNotYetValidOrNothing() {
        Pki.Issued expired = Pki.leaf(CA, "CN=expired", NOW.minus(DAY.multipliedBy(100)), NOW.minus(DAY.multipliedBy(3)));
        Pki.Issued expiring = Pki.leaf(CA, "CN=expiring", NOW.minus(DAY.multipliedBy(100)), NOW.plus(DAY.multipliedBy(10)));
        Pki.Issued healthy = Pki.leaf(CA, "CN=healthy", NOW.minus(DAY), NOW.plus(DAY.multipliedBy(200)), "web.example");
        Pki.Issued later = Pki.leaf(CA, "CN=later", NOW.plus(DAY.multipliedBy(2)), NOW.plus(DAY.multipliedBy(200)));
        Location here = new Location.File(java.nio.file.Path.of("/x.crt"));
        List<CertificateRecord> records = inspect(List.of(new CertificateSource(here,
                List.of(expired.cert(), expiring.cert(), healthy.cert(), later.cert()), Optional.empty(), Optional.empty())));
        assertEquals(List.of(Flag.EXPIRED), flags(records.get(0)));
        assertEquals(-3, records.get(0).daysLeft());
        assertEquals("expired", records.get(0).status());
        assertEquals(List.of(Flag.EXPIRING), flags(records.get(1)));
        assertEquals(10, records.get(1).daysLeft());
        assertEquals(List.of(), flags(records.get(2)));
        assertEquals(List.of("DNS:web.example"), records.get(2).sans());
        assertEquals("CN=test-ca", records.get(2).issuer());
        assertEquals(List.of(Flag.NOT_YET_VALID), flags(records.get(3)));
        assertEquals(List.of(1, 2, 3, 4), records.stream().map(CertificateRecord::position).toList());
    }

    @Test
    void aKeyThatIsNotTheCertificatesIsFlaggedWhateverItsType() {
        Pki.Issued leaf = Pki.leaf(CA, "CN=leaf", NOW.minus(DAY), NOW.plus(DAY.multipliedBy(200)));
        Pki.Issued rsa = Pki.rsaLeaf(CA, "CN=rsa", NOW.minus(DAY), NOW.plus(DAY.multipliedBy(200)));
        Location here = new Location.File(java.nio.file.Path.of("/x.crt"));
        CertificateSource.PairedKey own = new CertificateSource.PairedKey(leaf.keys().getPrivate(), "own.key");
        CertificateSource.PairedKey otherEc = new CertificateSource.PairedKey(Pki.ecKeys().getPrivate(), "other.key");
        CertificateSource.PairedKey rsaKey = new CertificateSource.PairedKey(rsa.keys().getPrivate(), "rsa.key");
        List<CertificateRecord> r = inspect(List.of(
                new CertificateSource(here, List.of(leaf.cert()), Optional.of(own), Optional.empty()),
                new CertificateSource(here, List.of(leaf.cert()), Optional.of(otherEc), Optional.empty()),
                new CertificateSource(here, List.of(leaf.cert()), Optional.of(rsaKey), Optional.empty()),
                new CertificateSource(here, List.of(rsa.cert()), Optional.of(rsaKey), Optional.empty()),
                new CertificateSource(here, List.of(rsa.cert()), Optional.of(otherEc), Optional.empty())));
        assertEquals(List.of(), flags(r.get(0)));
        assertEquals(List.of(Flag.KEY_MISMATCH), flags(r.get(1)));
        assertTrue(r.get(1).findings().get(0).detail().contains("other.key"), r.get(1).toString());
        assertEquals(List.of(Flag.KEY_MISMATCH), flags(r.get(2)));
        assertEquals(List.of(), flags(r.get(3)));
        assertEquals(List.of(Flag.KEY_MISMATCH), flags(r.get(4)));
    }

    @Test
    void aBundleThatLostTheLeafsIssuerBreaksTheChainEvenUnderTheSameName() {
        Pki.Issued oldCa = Pki.ca("CN=test-ca", NOW.minus(DAY.multipliedBy(400)), NOW.plus(DAY.multipliedBy(3000)));
        Pki.Issued byOld = Pki.leaf(oldCa, "CN=leaf-old", NOW.minus(DAY), NOW.plus(DAY.multipliedBy(200)));
        Pki.Issued byNew = Pki.leaf(CA, "CN=leaf-new", NOW.minus(DAY), NOW.plus(DAY.multipliedBy(200)));
        CertificateSource.Bundle bundle = new CertificateSource.Bundle("ca.crt", List.of(CA.cert()));
        Location here = new Location.InSecret("ns", "s", "tls.crt");
        List<CertificateRecord> r = inspect(List.of(
                new CertificateSource(here, List.of(byNew.cert()), Optional.empty(), Optional.of(bundle)),
                new CertificateSource(here, List.of(byOld.cert()), Optional.empty(), Optional.of(bundle))));
        assertEquals(List.of(), flags(r.get(0)));
        assertEquals(List.of(Flag.CHAIN_BROKEN), flags(r.get(1)));
        assertTrue(r.get(1).findings().get(0).detail().contains("no certificate in ca.crt signed it"), r.get(1).toString());
    }

    @Test
    void aChainInTheSameValueLeadsToTheBundle() {
        Pki.Issued intermediateKeys = Pki.ca("CN=intermediate", NOW.minus(DAY), NOW.plus(DAY.multipliedBy(900)));
        // the intermediate's certificate is issued by CA, with the intermediate's own key
        java.security.cert.X509Certificate intermediate = Pki.leafWithKeys(CA, "CN=intermediate",
                intermediateKeys.keys(), NOW.minus(DAY), NOW.plus(DAY.multipliedBy(900)), true);
        Pki.Issued leaf = Pki.leaf(new Pki.Issued(intermediate, intermediateKeys.keys()), "CN=leaf",
                NOW.minus(DAY), NOW.plus(DAY.multipliedBy(200)));
        CertificateSource.Bundle bundle = new CertificateSource.Bundle("ca.crt", List.of(CA.cert()));
        Location here = new Location.InSecret("ns", "s", "tls.crt");
        List<CertificateRecord> withChain = inspect(List.of(new CertificateSource(here,
                List.of(leaf.cert(), intermediate), Optional.empty(), Optional.of(bundle))));
        assertEquals(List.of(), flags(withChain.get(0)));
        assertTrue(withChain.get(1).ca());
        List<CertificateRecord> leafAlone = inspect(List.of(new CertificateSource(here, List.of(leaf.cert()),
                Optional.empty(), Optional.of(bundle))));
        assertEquals(List.of(Flag.CHAIN_BROKEN), flags(leafAlone.get(0)));
    }

    @Test
    void theProtobufFormKubeApiserverStoresIsReadByFieldNumber() throws Exception {
        Map<String, byte[]> data = KubeStorage.data("tls.crt", "CERT", "tls.key", "KEY");
        data.put("binary", new byte[] {0, (byte) 0xff, 10});
        StoredSecret s = StoredSecret.decode(KubeStorage.protobuf("kes", "kes-tenant-kes-tls", "kubernetes.io/tls", data));
        assertEquals("kes", s.namespace());
        assertEquals("kes-tenant-kes-tls", s.name());
        assertEquals("kubernetes.io/tls", s.type());
        assertEquals(data.keySet(), s.data().keySet());
        assertArrayEquals(new byte[] {0, (byte) 0xff, 10}, s.data().get("binary"));
        assertArrayEquals("CERT".getBytes(StandardCharsets.UTF_8), s.data().get("tls.crt"));

        StoredSecret j = StoredSecret.decode(KubeStorage.json("kes", "from-json", "Opaque", data));
        assertEquals("from-json", j.name());
        assertEquals("Opaque", j.type());
        assertArrayEquals(new byte[] {0, (byte) 0xff, 10}, j.data().get("binary"));
    }

    @Test
    void aStoredValueThatIsNoSecretIsRefusedWithoutItsBytes() {
        byte[] configMap = KubeStorage.protobuf("ConfigMap", "ns", "n", "", Map.of());
        StoredSecret.NotASecret e = assertThrows(StoredSecret.NotASecret.class, () -> StoredSecret.decode(configMap));
        assertTrue(e.getMessage().contains("ConfigMap"), e.getMessage());
        assertThrows(StoredSecret.NotASecret.class, () -> StoredSecret.decode("garbage".getBytes(StandardCharsets.UTF_8)));
        assertThrows(StoredSecret.NotASecret.class, () -> StoredSecret.decode(new byte[] {'k', '8', 's', 0, (byte) 0x0a, 99}));
    }

    @Test
    void aKesSecretPairsPublicCrtWithPrivateKeyAndATlsSecretChecksAgainstItsCaCrt() {
        Pki.Issued kes = Pki.leaf(CA, "CN=kes", NOW.minus(DAY.multipliedBy(400)), NOW.minus(DAY), "kes.minio.svc");
        Pki.Issued other = Pki.leaf(CA, "CN=other", NOW.minus(DAY), NOW.plus(DAY.multipliedBy(100)));
        StoredSecret kesSecret = new StoredSecret("minio", "kes-tenant-kes-tls", "Opaque",
                KubeStorage.data("public.crt", kes.certPem(), "private.key", other.keyPem(), "config", "not pem"));
        List<CertificateRecord> r = inspect(SecretCertificates.of(kesSecret));
        assertEquals(1, r.size());
        assertEquals(List.of(Flag.EXPIRED, Flag.KEY_MISMATCH), flags(r.get(0)));
        assertEquals("expired, key mismatch", r.get(0).status());
        assertEquals(new Location.InSecret("minio", "kes-tenant-kes-tls", "public.crt"), r.get(0).location());

        StoredSecret tls = new StoredSecret("web", "web-tls", "kubernetes.io/tls", KubeStorage.data("tls.crt",
                other.certPem(), "tls.key", other.keyPem(), "ca.crt", CA.certPem()));
        List<CertificateRecord> t = inspect(SecretCertificates.of(tls));
        assertEquals(2, t.size());
        assertTrue(t.stream().noneMatch(CertificateRecord::flagged), t.toString());
        assertTrue(t.stream().anyMatch(c -> c.ca() && ((Location.InSecret) c.location()).key().equals("ca.crt")));
    }

    @Test
    void theClusterCaCopiedIntoEveryServiceAccountTokenSecretIsNotListedOncePerServiceAccount() {
        StoredSecret token = new StoredSecret("default", "default-token-x7k2p", "kubernetes.io/service-account-token",
                KubeStorage.data("ca.crt", CA.certPem(), "namespace", "default", "token", "eyJhbGciOi"));
        assertEquals(List.of(), SecretCertificates.of(token));
        StoredSecret opaque = new StoredSecret("default", "ca-copy", "Opaque", KubeStorage.data("ca.crt", CA.certPem()));
        assertEquals(1, SecretCertificates.of(opaque).size());
    }

    @Test
    void aNameFromEtcdCannotDriveTheTerminal() {
        assertEquals("ns/evil\\x1b[31mred tls.crt", new Location.InSecret("ns", "evil\u001b[31mred", "tls.crt").where());
        assertEquals("/pki/a\\x0ab.crt", new Location.File(java.nio.file.Path.of("/pki/a\nb.crt")).where());
    }

    @Test
    void theMetricEscapesLabelValuesAsThePrometheusTextFormatRequires() {
        Pki.Issued odd = Pki.selfSigned("CN=a \\\"quoted\\\" \\\\ name,O=x", NOW.minus(DAY), NOW.plus(DAY));
        CertificateRecord r = inspect(List.of(new CertificateSource(new Location.InSecret("ns", "we\"ird\nname", "tls.crt"),
                List.of(odd.cert()), Optional.empty(), Optional.empty()))).get(0);
        String text = ExpirationMetrics.render(List.of(r, r));
        String expected = "secrets_encrypt_certificate_expiration_timestamp_seconds{key=\"tls.crt\",name=\"we\\\"ird\\nname\","
                + "namespace=\"ns\",source=\"secret\",subject=\"CN=a \\\\\\\"quoted\\\\\\\" \\\\\\\\ name,O=x\"} ";
        assertTrue(text.contains(expected), text);
        assertTrue(text.startsWith("# HELP " + ExpirationMetrics.NAME + " "), text);
        assertTrue(text.contains("# TYPE " + ExpirationMetrics.NAME + " gauge\n"), text);
        assertEquals(1, text.lines().filter(l -> l.startsWith(ExpirationMetrics.NAME)).count(), text);
        assertTrue(text.contains("} " + (double) odd.cert().getNotAfter().toInstant().getEpochSecond())
                || text.contains("} " + String.format("%.9E", (double) odd.cert().getNotAfter().toInstant().getEpochSecond())), text);
    }
}
