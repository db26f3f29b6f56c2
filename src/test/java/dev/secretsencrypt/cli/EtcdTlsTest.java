package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** etcd with TLS and client-certificate auth, as production control planes run it: --cacert --cert --key. */
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
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!Files.readString(pki.resolve("etcd.log")).contains("serving client traffic securely")) {
            assertTrue(etcd.isAlive() && System.nanoTime() < deadline, Files.readString(pki.resolve("etcd.log")));
            Thread.sleep(50);
        }
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
}
