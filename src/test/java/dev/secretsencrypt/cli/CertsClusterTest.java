package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.secretsencrypt.certs.KubeStorage;
import dev.secretsencrypt.testing.Pki;
import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.envelope.ProviderChain;
import dev.secretsencrypt.testing.TestDatastore;
import io.etcd.jetcd.ByteSequence;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * certs over the Secrets of a real etcd, stored as kube-apiserver stores them: protobuf and JSON, encrypted with
 * aescbc, aesgcm and secretbox (the last aescbc key retired by reencrypt) and plain.
 */
@Tag("etcd")
@Tag("datastore")
class CertsClusterTest {
    static final Instant NOW = Instant.now();
    static final Duration DAY = Duration.ofDays(1);

    @TempDir
    Path tmp;
    final Cli cli = new Cli();
    final TestDatastore etcd = TestDatastore.shared();
    final List<String> keys = new ArrayList<>();
    String etcdPrefix;
    String statePrefix;
    Envelope retiredAescbc;

    static Instant days(long n) {
        return NOW.plus(DAY.multipliedBy(n));
    }

    @BeforeEach
    void aClusterWhoseKeysWentThroughARotation() throws Exception {
        String run = UUID.randomUUID().toString();
        etcdPrefix = "/reg-" + run;
        statePrefix = "/se-" + run + "/";
        Files.writeString(tmp.resolve("token"), "token-" + run);
        Files.setPosixFilePermissions(tmp.resolve("token"), PosixFilePermissions.fromString("rw-------"));
        put(etcdPrefix + "/namespaces/default", "k8s\0namespace".getBytes(StandardCharsets.ISO_8859_1));
        ok(se("enable", "--provider", "aescbc"));
        ok(se("sync"));
        retiredAescbc = envelope("aescbc/");
        ok(se("prepare", "--provider", "aesgcm"));
        ok(se("sync"));
        ok(se("rotate"));
        ok(se("sync"));
        ok(se("reencrypt")); // nothing stored yet: the aescbc key retires, kept wrapped in the state
        ok(se("sync"));
        ok(se("prepare", "--provider", "secretbox"));
        ok(se("sync"));
    }

    @AfterEach
    void noPrivateKeyWasEverPrinted() {
        for (String printed : cli.printed) {
            assertFalse(printed.contains("PRIVATE KEY"), printed);
            for (String pem : keys) {
                String body = pem.lines().filter(l -> !l.startsWith("-----")).reduce("", String::concat);
                for (int i = 0; i + 16 <= body.length(); i += 16) {
                    assertFalse(printed.contains(body.substring(i, i + 16)), "key bytes printed: " + printed);
                }
            }
        }
    }

    Cli.Result se(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("-d", tmp.resolve("node-1").toString(), "--node-name", "node-1", "--endpoints",
                etcd.endpointsCsv(), "--token-file", tmp.resolve("token").toString(), "--state-prefix", statePrefix,
                "--etcd-prefix", etcdPrefix));
        return cli.run(all.toArray(String[]::new));
    }

    static void ok(Cli.Result r) {
        assertEquals(0, r.exitCode(), r.all());
    }

    void put(String key, byte[] value) throws Exception {
        etcd.client().getKVClient().put(ByteSequence.from(key, StandardCharsets.UTF_8), ByteSequence.from(value))
                .get(10, TimeUnit.SECONDS);
    }

    /** The key of this node's file whose description starts with {@code type}, e.g. "aesgcm/". */
    Envelope envelope(String type) throws Exception {
        ProviderChain chain = ProviderChain.of(ConfigFiles.read(tmp.resolve("node-1/encryption-config.json"))
                .secretsRule().orElseThrow().providers());
        return chain.readOrder().stream().filter(e -> e.description().startsWith(type)).findFirst().orElseThrow();
    }

    /** Stores a Secret under {@code <prefix>/secrets/ns/name}, sealed as kube-apiserver would with {@code sealer}. */
    void store(String namespace, String name, byte[] object, Envelope sealer) throws Exception {
        String key = etcdPrefix + "/secrets/" + namespace + "/" + name;
        byte[] k = key.getBytes(StandardCharsets.UTF_8);
        put(key, sealer == null ? object : sealer.seal(object, k));
    }

    String key(Pki.Issued issued) {
        String pem = issued.keyPem();
        keys.add(pem);
        return pem;
    }

    @Test
    void everyCertificateInTheStoredSecretsIsReadWhateverKeyWroteIt() throws Exception {
        Pki.Issued ca = Pki.ca("CN=cluster-issuer", days(-400), days(3000));
        Pki.Issued oldCa = Pki.ca("CN=old-issuer", days(-900), days(1000));
        // KES: an Opaque Secret with public.crt and private.key, expired 4 days ago; protobuf, aesgcm (the writer)
        Pki.Issued kes = Pki.leaf(ca, "CN=kes-tenant-kes", days(-94), days(-4), "kes-tenant-kes.minio.svc");
        store("minio", "kes-tenant-kes-tls", KubeStorage.protobuf("minio", "kes-tenant-kes-tls", "Opaque",
                KubeStorage.data("public.crt", kes.certPem(), "private.key", key(kes))), envelope("aesgcm/"));
        // a cert-manager TLS Secret expiring in 9 days: JSON, secretbox (the prepared key)
        Pki.Issued web = Pki.leaf(ca, "CN=web.example.com", days(-81), days(9), "web.example.com");
        store("web", "web-tls", KubeStorage.json("web", "web-tls", "kubernetes.io/tls",
                KubeStorage.data("tls.crt", web.certPem(), "tls.key", key(web), "ca.crt", ca.certPem())),
                envelope("secretbox/"));
        // a healthy TLS Secret: protobuf, the retired aescbc key (a value restored from an old snapshot)
        Pki.Issued api = Pki.leaf(ca, "CN=api.example.com", days(-10), days(80), "api.example.com");
        store("web", "api-tls", KubeStorage.protobuf("web", "api-tls", "kubernetes.io/tls",
                KubeStorage.data("tls.crt", api.certPem(), "tls.key", key(api), "ca.crt", ca.certPem())), retiredAescbc);
        // a TLS Secret whose tls.key belongs to another certificate: plain (identity), protobuf
        Pki.Issued other = Pki.leaf(ca, "CN=other", days(-10), days(80));
        store("shop", "shop-tls", KubeStorage.protobuf("shop", "shop-tls", "kubernetes.io/tls",
                KubeStorage.data("tls.crt", Pki.leaf(ca, "CN=shop.example.com", days(-10), days(200)).certPem(),
                        "tls.key", key(other))), null);
        // a CA rotation left half done: ca.crt holds only the new CA, tls.crt is still from the old one; JSON, plain
        Pki.Issued legacy = Pki.leaf(oldCa, "CN=legacy.example.com", days(-10), days(300));
        store("shop", "legacy-tls", KubeStorage.json("shop", "legacy-tls", "kubernetes.io/tls",
                KubeStorage.data("tls.crt", legacy.certPem(), "tls.key", key(legacy), "ca.crt", ca.certPem())), null);
        // Secrets without certificates are read and say nothing
        store("default", "token", KubeStorage.protobuf("default", "token", "Opaque",
                KubeStorage.data("token", "s3cr3t")), envelope("aesgcm/"));

        Cli.Result r = se("certs", "--host-root", tmp.resolve("no-host").toString());
        assertEquals(1, r.exitCode(), r.all());
        String out = r.out();
        assertTrue(out.startsWith("Certificates: 8 checked, 4 flagged (expiring = within 30 days); Secrets read from "
                + "the datastore: 6"), out);
        assertTrue(line(out, "minio/kes-tenant-kes-tls public.crt").matches("expired\\s+-4\\s.*leaf.*CN=kes-tenant-kes"), out);
        assertTrue(line(out, "web/web-tls tls.crt").matches("expiring\\s+[89]\\s.*CN=web.example.com"), out);
        assertTrue(line(out, "web/api-tls tls.crt").matches("ok\\s+(79|80)\\s.*CN=api.example.com"), out);
        assertTrue(line(out, "shop/shop-tls tls.crt").startsWith("key mismatch "), out);
        assertTrue(line(out, "shop/legacy-tls tls.crt").startsWith("chain broken "), out);
        assertTrue(line(out, "web/web-tls ca.crt").matches("ok\\s+.*\\sCA\\s.*CN=cluster-issuer"), out);
        assertTrue(out.contains("no certificate in ca.crt of shop/legacy-tls signed it (its issuer is CN=old-issuer)"), out);
        assertTrue(out.contains("next: a KES-style Secret (public.crt, private.key): issue a new certificate and key, "
                + "write both into minio/kes-tenant-kes-tls, then restart the pods that mount it"), out);
        assertTrue(out.contains("SANs DNS:kes-tenant-kes.minio.svc"), out);
        assertTrue(out.contains("next: renew it where it was issued: if cert-manager manages web/web-tls"), out);
        assertFalse(out.contains("s3cr3t"), out);
        System.out.println(out); // the report the README quotes

        Cli.Result metrics = se("certs", "-o", "prometheus", "--host-root", tmp.resolve("no-host").toString());
        assertEquals(1, metrics.exitCode(), metrics.all());
        assertTrue(metrics.out().contains("secrets_encrypt_certificate_expiration_timestamp_seconds{key=\"public.crt\","
                + "name=\"kes-tenant-kes-tls\",namespace=\"minio\",source=\"secret\",subject=\"CN=kes-tenant-kes\"} "), metrics.out());
        assertEquals(8, metrics.out().lines().filter(l -> l.startsWith("secrets_encrypt_")).count(), metrics.out());
        System.out.println(metrics.out());

        JsonNode json = new ObjectMapper().readTree(se("certs", "-o", "json", "--host-root",
                tmp.resolve("no-host").toString()).out());
        assertEquals(6, json.get("secretsRead").asInt());
        assertEquals(0, json.get("unreadableSecrets").size());
        JsonNode first = json.get("certificates").get(0);
        assertEquals("minio", first.get("namespace").asText());
        assertEquals("public.crt", first.get("key").asText());
        assertEquals("expired", first.get("findings").get(0).get("flag").asText());
    }

    String line(String out, String where) {
        return out.lines().filter(l -> l.contains(" " + where + " ")).findFirst().orElse("(no line for " + where + ")");
    }

    @Test
    void aSecretNoKeyOpensIsNamedAndFailsTheRun() throws Exception {
        Pki.Issued ca = Pki.ca("CN=cluster-issuer", days(-400), days(3000));
        store("web", "fine", KubeStorage.protobuf("web", "fine", "kubernetes.io/tls",
                KubeStorage.data("tls.crt", ca.certPem())), envelope("aesgcm/"));
        put(etcdPrefix + "/secrets/web/lost", "k8s:enc:aescbc:v1:gone:0123456789abcdef0123456789abcdef".getBytes(StandardCharsets.UTF_8));
        store("web", "broken", KubeStorage.json("web", "broken", "kubernetes.io/tls", KubeStorage.data("tls.crt",
                "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")), envelope("aesgcm/"));
        Cli.Result r = se("certs", "--host-root", tmp.resolve("no-host").toString());
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.out().startsWith("Certificates: 1 checked, 0 flagged"), r.out());
        assertTrue(r.err().contains("1 Secret(s) could not be opened with any configured or retired key"), r.err());
        assertTrue(r.err().contains("Warning: skipped web/broken tls.crt: a PEM certificate block that cannot be parsed"),
                r.err());
        Cli.Result json = se("certs", "-o", "json", "--host-root", tmp.resolve("no-host").toString());
        assertEquals(etcdPrefix + "/secrets/web/lost", new ObjectMapper().readTree(json.out())
                .get("unreadableSecrets").get(0).asText());
    }

    @Test
    void aHealthyClusterExitsZero() throws Exception {
        Pki.Issued ca = Pki.ca("CN=cluster-issuer", days(-400), days(3000));
        Pki.Issued web = Pki.leaf(ca, "CN=web.example.com", days(-10), days(80));
        store("web", "web-tls", KubeStorage.protobuf("web", "web-tls", "kubernetes.io/tls",
                KubeStorage.data("tls.crt", web.certPem(), "tls.key", key(web), "ca.crt", ca.certPem())),
                envelope("aesgcm/"));
        Cli.Result r = se("certs", "--host-root", tmp.resolve("no-host").toString());
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.out().startsWith("Certificates: 2 checked, 0 flagged"), r.out());
        assertEquals("", r.err());
    }
}
