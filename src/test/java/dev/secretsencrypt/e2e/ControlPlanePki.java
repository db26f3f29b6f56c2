package dev.secretsencrypt.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The certificates and keys a test control plane needs, made with openssl in a temp dir (0700): a CA, a
 * serving certificate for 127.0.0.1, a client certificate in group system:masters, and the service-account
 * signing key pair. Nothing here leaves the temp dir.
 */
record ControlPlanePki(Path dir) {
    private static final String P12_PASSWORD = "e2e-client";

    static ControlPlanePki create(Path dir) {
        ControlPlanePki pki = new ControlPlanePki(dir);
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
            Files.writeString(dir.resolve("serving.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
            Files.writeString(dir.resolve("client.ext"), "extendedKeyUsage=clientAuth\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + dir + " for test certificates", e);
        }
        pki.openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=secrets-encrypt-e2e-ca");
        pki.signed("serving", "/CN=kube-apiserver", "serving.ext");
        pki.signed("client", "/O=system:masters/CN=secrets-encrypt-e2e", "client.ext");
        pki.openssl("pkcs12", "-export", "-in", "client.crt", "-inkey", "client.key", "-out", "client.p12",
                "-passout", "pass:" + P12_PASSWORD);
        pki.openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "sa.key");
        pki.openssl("pkey", "-in", "sa.key", "-pubout", "-out", "sa.pub");
        return pki;
    }

    Path caCert() { return dir.resolve("ca.crt"); }
    Path servingCert() { return dir.resolve("serving.crt"); }
    Path servingKey() { return dir.resolve("serving.key"); }
    Path serviceAccountKey() { return dir.resolve("sa.key"); }
    Path serviceAccountPublicKey() { return dir.resolve("sa.pub"); }
    /** The system:masters client certificate and its key (PKCS#8), as files for the tool's --apiserver-cert/-key. */
    Path clientCert() { return dir.resolve("client.crt"); }
    Path clientKey() { return dir.resolve("client.key"); }

    /** TLS for the REST client: trusts only the test CA, authenticates with the system:masters client certificate. */
    SSLContext clientTls() {
        try (InputStream ca = Files.newInputStream(caCert()); InputStream p12 = Files.newInputStream(dir.resolve("client.p12"))) {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(ca));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            KeyStore client = KeyStore.getInstance("PKCS12");
            client.load(p12, P12_PASSWORD.toCharArray());
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(client, P12_PASSWORD.toCharArray());
            SSLContext tls = SSLContext.getInstance("TLS");
            tls.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
            return tls;
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalStateException("cannot load the test certificates from " + dir + ": " + e.getMessage(), e);
        }
    }

    private void signed(String name, String subject, String extensions) {
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", name + ".key", "-out", name + ".csr", "-subj", subject);
        openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", name + ".crt", "-days", "2", "-extfile", extensions);
    }

    private void openssl(String... args) {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("openssl " + args[0] + " failed making test certificates: " + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run openssl (scripts/test.sh installs it)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while making test certificates", e);
        }
    }
}
