package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.secretsencrypt.testing.Pki;
import dev.secretsencrypt.testing.ExternalTools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** certs through the command line: a fake PKI tree on disk, and Secrets stored in a real etcd as kube-apiserver does. */
@Tag("unit")
class CertsCommandTest {
    static final Instant NOW = Instant.now();
    static final Duration DAY = Duration.ofDays(1);

    @TempDir
    Path tmp;
    final Cli cli = new Cli();
    /** Every private key PEM the test wrote: none of it, nor its base64 body, may ever be printed. */
    final List<String> keys = new ArrayList<>();

    static Instant days(long n) {
        return NOW.plus(DAY.multipliedBy(n));
    }

    String key(Pki.Issued issued) {
        String pem = issued.keyPem();
        keys.add(pem);
        return pem;
    }

    @AfterEach
    void noPrivateKeyWasEverPrinted() {
        for (String printed : cli.printed) {
            for (String pem : keys) {
                String body = pem.lines().filter(l -> !l.startsWith("-----")).reduce("", String::concat);
                assertFalse(printed.contains("PRIVATE KEY"), printed);
                for (int i = 0; i + 16 <= body.length(); i += 16) {
                    assertFalse(printed.contains(body.substring(i, i + 16)), "key bytes printed: " + printed);
                }
            }
        }
    }

    Path write(String relative, String... pems) throws Exception {
        Path file = tmp.resolve("host").resolve(relative);
        Files.createDirectories(file.getParent());
        Files.writeString(file, String.join("", pems));
        return file;
    }

    /** A kubeadm control plane and a kubelet, with one of each problem. */
    void seedHost() throws Exception {
        Pki.Issued ca = Pki.ca("CN=kubernetes", days(-400), days(3250));
        Pki.Issued oldCa = Pki.ca("CN=kubernetes", days(-800), days(2000)); // same name, another key
        Pki.Issued frontProxyCa = Pki.ca("CN=front-proxy-ca", days(-400), days(3250));
        Pki.Issued etcdCa = Pki.ca("CN=etcd-ca", days(-400), days(3250));
        write("etc/kubernetes/pki/ca.crt", ca.certPem());
        write("etc/kubernetes/pki/ca.key", key(ca));
        Pki.Issued apiserver = Pki.leaf(ca, "CN=kube-apiserver", days(-300), days(65), "kubernetes.default.svc");
        write("etc/kubernetes/pki/apiserver.crt", apiserver.certPem());
        write("etc/kubernetes/pki/apiserver.key", key(apiserver));
        // half-done CA rotation: ca.crt is the new CA, this leaf was signed by the old one
        Pki.Issued kubeletClient = Pki.leaf(oldCa, "CN=kube-apiserver-kubelet-client,O=kubeadm:cluster-admins",
                days(-300), days(65));
        write("etc/kubernetes/pki/apiserver-kubelet-client.crt", kubeletClient.certPem());
        write("etc/kubernetes/pki/front-proxy-ca.crt", frontProxyCa.certPem());
        write("etc/kubernetes/pki/front-proxy-client.crt",
                Pki.leaf(frontProxyCa, "CN=front-proxy-client", days(-300), days(65)).certPem());
        write("etc/kubernetes/pki/apiserver-etcd-client.crt",
                Pki.leaf(etcdCa, "CN=kube-apiserver-etcd-client", days(-300), days(12)).certPem());
        write("etc/kubernetes/pki/etcd/ca.crt", etcdCa.certPem());
        Pki.Issued etcdServer = Pki.leaf(etcdCa, "CN=etcd-server", days(-400), days(-2), "localhost");
        write("etc/kubernetes/pki/etcd/server.crt", etcdServer.certPem());
        write("etc/kubernetes/pki/etcd/server.key", key(etcdServer));
        // the kubelet: the current client certificate (cert + key in one file), an old rotated one, and kubelet.crt
        // whose kubelet.key was replaced by another key
        Pki.Issued current = Pki.leaf(ca, "CN=system:node:node-1,O=system:nodes", days(-360), days(5));
        Path currentFile = write("var/lib/kubelet/pki/kubelet-client-2025-12-05-08-00-00.pem", current.certPem(), key(current));
        Files.createSymbolicLink(currentFile.resolveSibling("kubelet-client-current.pem"), currentFile.getFileName());
        Pki.Issued rotatedAway = Pki.leaf(ca, "CN=system:node:node-1,O=system:nodes", days(-720), days(-360));
        write("var/lib/kubelet/pki/kubelet-client-2024-12-05-08-00-00.pem", rotatedAway.certPem(), key(rotatedAway));
        Pki.Issued serving = Pki.selfSigned("CN=node-1@1764000000", days(-10), days(355), "node-1");
        write("var/lib/kubelet/pki/kubelet.crt", serving.certPem());
        write("var/lib/kubelet/pki/kubelet.key", key(Pki.selfSigned("CN=other", days(-1), days(1))));
        // k3s: a certificate from a server whose clock ran ahead
        write("var/lib/rancher/k3s/server/tls/serving-kube-apiserver.crt",
                Pki.selfSigned("CN=k3s", days(3), days(365)).certPem());
    }

    List<String> lineOf(String text, String where) {
        return text.lines().filter(l -> l.contains(where)).toList();
    }

    @Test
    void aServersPkiTreeGetsEachProblemFlaggedWithWhatToDo() throws Exception {
        seedHost();
        Cli.Result r = cli.run("certs", "--host-root", tmp.resolve("host").toString());
        assertEquals(1, r.exitCode(), r.all());
        String out = r.out();
        String pki = tmp.resolve("host/etc/kubernetes/pki").toString();
        assertTrue(out.startsWith("Certificates: 11 checked, 6 flagged (expiring = within 30 days)"), out);
        assertTrue(lineOf(out, pki + "/etcd/server.crt").get(0).matches("expired\\s+-2\\s+.*leaf.*CN=etcd-server"), out);
        assertTrue(lineOf(out, pki + "/apiserver-etcd-client.crt").get(0).matches("expiring\\s+1[12]\\s.*"), out);
        assertTrue(lineOf(out, "kubelet-client-current.pem").get(0).matches("expiring\\s+[45]\\s.*CN=system:node:node-1.*"), out);
        assertTrue(lineOf(out, pki + "/apiserver-kubelet-client.crt").get(0).startsWith("chain broken "), out);
        assertTrue(lineOf(out, "kubelet/pki/kubelet.crt").get(0).startsWith("key mismatch "), out);
        assertTrue(lineOf(out, "serving-kube-apiserver.crt").get(0).startsWith("not yet valid"), out);
        // signed by CAs found elsewhere in the tree, not by ca.crt beside them: not a broken chain
        assertTrue(lineOf(out, pki + "/front-proxy-client.crt").get(0).startsWith("ok"), out);
        assertTrue(lineOf(out, pki + "/apiserver.crt").get(0).startsWith("ok"), out);
        assertTrue(lineOf(out, pki + "/etcd/ca.crt").get(0).matches("ok\\s+.*\\sCA\\s.*"), out);
        assertTrue(lineOf(out, "kubelet-client-2024").isEmpty(), "a certificate the kubelet rotated away from: " + out);
        assertTrue(out.contains("no certificate in " + pki + "/ca.crt signed it (its issuer is CN=kubernetes)"), out);
        assertTrue(out.contains("the private key in " + tmp.resolve("host/var/lib/kubelet/pki/kubelet.key")
                + " is not the certificate's key"), out);
        assertTrue(out.contains("next: kubeadm: `kubeadm certs renew all`"), out);
        assertTrue(out.contains("next: the kubelet renews its client certificate itself"), out);
        assertTrue(r.err().contains("6 certificate(s) flagged"), r.err());
    }

    @Test
    void jsonGivesEveryFieldAndThePrometheusFormatOneSeriesPerCertificate() throws Exception {
        seedHost();
        Cli.Result j = cli.run("certs", "-o", "json", "--host-root", tmp.resolve("host").toString());
        assertEquals(1, j.exitCode(), j.all());
        JsonNode root = new ObjectMapper().readTree(j.out());
        assertEquals(11, root.get("checked").asInt());
        assertEquals(6, root.get("flagged").asInt());
        JsonNode apiserver = null;
        for (JsonNode c : root.get("certificates")) {
            if (c.path("path").asText().endsWith("/pki/apiserver.crt")) {
                apiserver = c;
            }
        }
        assertTrue(apiserver != null, j.out());
        assertEquals("CN=kube-apiserver", apiserver.get("subject").asText());
        assertEquals("CN=kubernetes", apiserver.get("issuer").asText());
        assertEquals("DNS:kubernetes.default.svc", apiserver.get("sans").get(0).asText());
        assertEquals("leaf", apiserver.get("ca").asBoolean() ? "CA" : "leaf");
        assertTrue(apiserver.get("daysLeft").asLong() >= 64, j.out());
        assertEquals("ok", apiserver.get("status").asText());

        Cli.Result p = cli.run("certs", "-o", "prometheus", "--host-root", tmp.resolve("host").toString());
        assertEquals(1, p.exitCode(), p.all());
        List<String> series = p.out().lines().filter(l -> l.startsWith(
                "secrets_encrypt_certificate_expiration_timestamp_seconds{")).toList();
        assertEquals(11, series.size(), p.out());
        assertTrue(series.stream().anyMatch(l -> l.contains("name=\"" + tmp.resolve("host/etc/kubernetes/pki/etcd/server.crt")
                + "\"") && l.contains("source=\"file\"") && l.contains("subject=\"CN=etcd-server\"")), p.out());
    }

    @Test
    void aHealthyTreeExitsZeroAndWarnAcceptsHours() throws Exception {
        Pki.Issued ca = Pki.ca("CN=kubernetes", days(-10), days(3000));
        write("etc/kubernetes/pki/ca.crt", ca.certPem());
        Pki.Issued leaf = Pki.leaf(ca, "CN=kube-apiserver", days(-10), days(40));
        write("etc/kubernetes/pki/apiserver.crt", leaf.certPem());
        write("etc/kubernetes/pki/apiserver.key", key(leaf));
        Cli.Result clean = cli.run("certs", "--host-root", tmp.resolve("host").toString());
        assertEquals(0, clean.exitCode(), clean.all());
        assertTrue(clean.out().startsWith("Certificates: 2 checked, 0 flagged"), clean.out());
        assertFalse(clean.out().contains("What to do"), clean.out());
        Cli.Result sooner = cli.run("certs", "--warn", "1200h", "--host-root", tmp.resolve("host").toString());
        assertEquals(1, sooner.exitCode(), sooner.all());
        assertTrue(sooner.out().contains("expiring = within 50 days"), sooner.out());
    }

    @Test
    void theEtcdClientCertificateInsideAKnownDirectoryIsListedOnceWithItsKey() throws Exception {
        Pki.Issued etcdCa = Pki.ca("CN=etcd-ca", days(-10), days(3000));
        Pki.Issued client = Pki.leaf(etcdCa, "CN=kube-apiserver-etcd-client", days(-10), days(300));
        Path cert = write("etc/kubernetes/pki/apiserver-etcd-client.crt", client.certPem());
        write("etc/kubernetes/pki/apiserver-etcd-client.key", key(client));
        Path otherKey = write("elsewhere/etcd-client.key", key(Pki.leaf(etcdCa, "CN=x", days(-1), days(1))));
        Cli.Result r = cli.run("certs", "--host-root", tmp.resolve("host").toString(), "--cert", cert.toString(),
                "--key", otherKey.toString());
        assertEquals(1, r.exitCode(), r.all());
        assertEquals(1, lineOf(r.out(), "apiserver-etcd-client.crt  ").size(), r.out());
        assertTrue(lineOf(r.out(), "apiserver-etcd-client.crt  ").get(0).startsWith("key mismatch "), r.out());
        assertTrue(r.out().contains("the private key in " + otherKey + " is not the certificate's key"), r.out());
    }

    @Test
    void usageErrorsExitTwo() {
        Path empty = tmp.resolve("empty");
        Cli.Result missing = cli.run("certs", "--host-root", empty.toString(), tmp.resolve("nowhere").toString());
        assertEquals(2, missing.exitCode(), missing.all());
        assertTrue(missing.err().contains(tmp.resolve("nowhere") + " does not exist"), missing.err());
        Cli.Result badWarn = cli.run("certs", "--warn", "30 days", "--host-root", empty.toString());
        assertEquals(2, badWarn.exitCode(), badWarn.all());
        assertTrue(badWarn.err().contains("give one such as 30d, 720h or 1h30m"), badWarn.err());
        Cli.Result none = cli.run("certs", "--host-root", empty.toString());
        assertEquals(0, none.exitCode(), none.all());
        assertTrue(none.out().contains("No certificate found."), none.out());
    }

    @Test
    void theEtcdClientCertificateAndPathsMadeByOpensslAreChecked() throws Exception {
        assertTrue(ExternalTools.succeeds("openssl", "version"), "openssl is missing: scripts/test.sh installs it");
        Path dir = Files.createDirectories(tmp.resolve("ossl"));
        Process p = new ProcessBuilder("sh", "-c", """
                set -e
                openssl req -x509 -newkey rsa:2048 -nodes -keyout client-tls.key -out client.crt -days 3 -subj /CN=etcd-client 2>/dev/null
                openssl req -x509 -newkey rsa:2048 -nodes -keyout web.key -out web.pem -days 400 -subj /CN=web 2>/dev/null
                """).directory(dir.toFile()).redirectErrorStream(true).start();
        assertEquals(0, p.waitFor(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        keys.add(Files.readString(dir.resolve("client-tls.key")));
        keys.add(Files.readString(dir.resolve("web.key")));
        Cli.Result r = cli.run("certs", "--host-root", tmp.resolve("empty").toString(), "--cert",
                dir.resolve("client.crt").toString(), "--key", dir.resolve("client-tls.key").toString(),
                dir.resolve("web.pem").toString());
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(lineOf(r.out(), "client.crt").get(0).matches("expiring\\s+[23]\\s.*CN=etcd-client"), r.out());
        // web.key beside web.pem is its key
        assertTrue(lineOf(r.out(), "web.pem").get(0).matches("ok\\s+(399|400)\\s.*CN=web"), r.out());
        // --key is the key of --cert, whatever its name
        Cli.Result wrongKey = cli.run("certs", "--host-root", tmp.resolve("empty").toString(), "--cert",
                dir.resolve("client.crt").toString(), "--key", dir.resolve("web.key").toString());
        assertEquals(1, wrongKey.exitCode(), wrongKey.all());
        assertTrue(lineOf(wrongKey.out(), "client.crt").get(0).startsWith("expiring, key mismatch "), wrongKey.out());
        assertTrue(wrongKey.out().contains("the private key in " + dir.resolve("web.key")), wrongKey.out());
    }
}
