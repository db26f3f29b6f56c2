package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import dev.secretsencrypt.testing.Await;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** etcd with TLS and client-certificate auth, as production control planes run it: --cacert --cert --key. */
@Tag("etcd")
class EtcdTlsTest {
    @TempDir
    static Path pki;
    static Process etcd;
    static String endpoint;

    @BeforeAll
    static void startEtcdWithTls() throws Exception {
        run("""
                set -e
                openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 1 -subj /CN=test-etcd-ca
                for who in server client; do
                  openssl req -newkey rsa:2048 -nodes -keyout $who.key -out $who.csr -subj /CN=$who
                done
                printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > server.ext
                printf 'extendedKeyUsage=clientAuth\\n' > client.ext
                for who in server client; do
                  openssl x509 -req -in $who.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out $who.crt -days 1 -extfile $who.ext
                done
                # kubeadm's form of the same key (PKCS#1) and an EC client as k3s and rke2 make it (SEC1)
                openssl rsa -in client.key -traditional -out client-pkcs1.key
                openssl ecparam -name prime256v1 -genkey -out client-ec.key
                openssl req -new -key client-ec.key -out client-ec.csr -subj /CN=client-ec
                openssl x509 -req -in client-ec.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client-ec.crt -days 1 -extfile client.ext
                """);
        int client;
        int peer;
        try (ServerSocket a = new ServerSocket(0); ServerSocket b = new ServerSocket(0)) {
            client = a.getLocalPort();
            peer = b.getLocalPort();
        }
        endpoint = "https://127.0.0.1:" + client;
        etcd = new ProcessBuilder("etcd", "--name", "tls", "--data-dir", pki.resolve("data").toString(),
                "--listen-client-urls", endpoint, "--advertise-client-urls", endpoint,
                "--listen-peer-urls", "http://127.0.0.1:" + peer, "--initial-advertise-peer-urls", "http://127.0.0.1:" + peer,
                "--initial-cluster", "tls=http://127.0.0.1:" + peer,
                "--cert-file", pki.resolve("server.crt").toString(), "--key-file", pki.resolve("server.key").toString(),
                "--client-cert-auth", "--trusted-ca-file", pki.resolve("ca.crt").toString(),
                "--logger", "zap", "--log-outputs", "stderr")
                .redirectErrorStream(true).redirectOutput(pki.resolve("etcd.log").toFile()).start();
        Await.until(Duration.ofSeconds(20), "etcd serving TLS", Await.quietly(() -> {
            assertTrue(etcd.isAlive(), Files.readString(pki.resolve("etcd.log")));
            return Files.readString(pki.resolve("etcd.log")).contains("serving client traffic securely");
        }));
        Cli.writeToken(pki.resolve("token"), "tls-cluster-token");
    }

    @AfterAll
    static void stop() throws Exception {
        etcd.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }

    static void run(String script) throws Exception {
        Process p = new ProcessBuilder("bash", "-c", script).directory(pki.toFile()).redirectErrorStream(true)
                .redirectOutput(pki.resolve("openssl.log").toFile()).start();
        assertEquals(0, p.waitFor(), Files.readString(pki.resolve("openssl.log")));
    }

    final Cli cli = new Cli();

    Cli.Result se(List<String> tls, String... command) {
        List<String> all = new ArrayList<>(List.of(command));
        all.addAll(List.of("-d", pki.resolve("node").toString(), "--node-name", "node-1", "--endpoints", endpoint,
                "--token-file", pki.resolve("token").toString(), "--etcd-timeout", "3"));
        all.addAll(tls);
        return cli.run(all.toArray(String[]::new));
    }

    List<String> fullTls() {
        return List.of("--cacert", pki.resolve("ca.crt").toString(), "--cert", pki.resolve("client.crt").toString(),
                "--key", pki.resolve("client.key").toString());
    }

    @Test
    void withTheCaAndAClientCertificateEveryCommandWorks() {
        Cli.Result enable = se(fullTls(), "enable");
        assertEquals(0, enable.exitCode(), enable.all());
        assertEquals(0, se(fullTls(), "sync").exitCode());
        Cli.Result status = se(fullTls(), "status");
        assertTrue(status.out().contains("All hashes match"), status.all());
    }

    @Test
    void withoutAClientCertificateItIsAClearErrorWithinSeconds() {
        long start = System.nanoTime();
        Cli.Result r = se(List.of("--cacert", pki.resolve("ca.crt").toString()), "status");
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().startsWith("Error: cannot read the rotation state"), r.err());
        assertTrue((System.nanoTime() - start) / 1e9 < 15);
    }

    @Test
    void aCertificateWithoutItsKeyIsRefused() {
        Cli.Result r = se(List.of("--cert", pki.resolve("client.crt").toString()), "status");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("--cert and --key go together"), r.err());
    }

    List<String> tls(String cert, String key) {
        return List.of("--cacert", pki.resolve("ca.crt").toString(), "--cert", pki.resolve(cert).toString(),
                "--key", pki.resolve(key).toString());
    }

    @Test
    void everyPemFormOfTheClientKeyWorks() throws Exception {
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put("client.key", "-----BEGIN PRIVATE KEY-----");
        keys.put("client-pkcs1.key", "-----BEGIN RSA PRIVATE KEY-----");
        keys.put("client-ec.key", "-----BEGIN EC PRIVATE KEY-----");
        for (Map.Entry<String, String> key : keys.entrySet()) {
            assertTrue(Files.readString(pki.resolve(key.getKey())).contains(key.getValue()), key.getKey());
            String cert = key.getKey().equals("client-ec.key") ? "client-ec.crt" : "client.crt";
            Cli.Result status = se(tls(cert, key.getKey()), "status");
            assertEquals(0, status.exitCode(), key.getKey() + ": " + status.all());
            assertTrue(status.out().startsWith("Encryption Status: "), status.all());
        }
    }

    @Test
    void aBareHostAndPortWithTlsFilesIsHttps() {
        Cli.Result status = cli.run("status", "-d", pki.resolve("node").toString(), "--endpoints",
                endpoint.replace("https://", ""), "--token-file", pki.resolve("token").toString(), "--cacert",
                pki.resolve("ca.crt").toString(), "--cert", pki.resolve("client-ec.crt").toString(), "--key",
                pki.resolve("client-ec.key").toString());
        assertEquals(0, status.exitCode(), status.all());
    }

    @Test
    void theTlsFilesAndEndpointsCanComeFromEtcdctlsVariables() {
        Map<String, String> env = Map.of("ETCDCTL_ENDPOINTS", endpoint, "ETCDCTL_CACERT", pki.resolve("ca.crt").toString(),
                "ETCDCTL_CERT", pki.resolve("client.crt").toString(), "ETCDCTL_KEY",
                pki.resolve("client-pkcs1.key").toString());
        Cli.Result status = cli.runWith(env, "status", "-d", pki.resolve("node").toString(), "--token-file",
                pki.resolve("token").toString());
        assertEquals(0, status.exitCode(), status.all());
        assertTrue(status.out().startsWith("Encryption Status: "), status.all());
    }

    @Test
    void anHttpsEndpointWithoutACaUsesTheSystemTrustAndNeverPlaintext() {
        Cli.Result r = cli.run("status", "-d", pki.resolve("node").toString(), "--endpoints", endpoint, "--token-file",
                pki.resolve("token").toString(), "--etcd-timeout", "3");
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().startsWith("Error: cannot read the rotation state"), r.err());
    }

    @Test
    void anHttpEndpointWithTlsFilesIsRefused() {
        String http = endpoint.replace("https://", "http://");
        Cli.Result r = cli.run(withTls("status", "--endpoints", http));
        assertEquals(1, r.exitCode(), r.all());
        assertEquals("Error: --endpoints " + http + " is plaintext http, but TLS files were given (--cacert/--cert/--key): "
                + "write the endpoints as https://, or drop the TLS files\n", r.err());
    }

    @Test
    void aMissingTlsFileSaysNoSuchFile() {
        Path missing = pki.resolve("nowhere.crt");
        Cli.Result r = se(List.of("--cacert", missing.toString()), "status");
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().startsWith("Error: the etcd CA certificate " + missing + " (--cacert): no such file."), r.err());
        Cli.Result key = se(List.of("--cert", pki.resolve("client.crt").toString(), "--key", missing.toString()), "status");
        assertTrue(key.err().contains(missing + " (--key): no such file."), key.err());
    }

    @Test
    void aKeyThatIsNotAKeyIsNamedWithoutItsContent() throws Exception {
        Path notAKey = pki.resolve("not-a-key.pem");
        Files.writeString(notAKey, "-----BEGIN PRIVATE KEY-----\nczNjcjN0\n-----END PRIVATE KEY-----\n");
        Cli.Result r = se(List.of("--cert", pki.resolve("client.crt").toString(), "--key", notAKey.toString()), "status");
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().contains(notAKey + " (--key) holds no PEM private key"), r.err());
        assertFalse(r.all().contains("czNjcjN0"));
    }

    String[] withTls(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("-d", pki.resolve("node").toString(), "--token-file", pki.resolve("token").toString()));
        all.addAll(fullTls());
        return all.toArray(String[]::new);
    }
}
