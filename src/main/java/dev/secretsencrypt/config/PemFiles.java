package dev.secretsencrypt.config;

import dev.secretsencrypt.failure.CommandRefused;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.openssl.PEMEncryptedKeyPair;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.pkcs.PKCS8EncryptedPrivateKeyInfo;

/**
 * The TLS files a client is given (a CA bundle, a client certificate and its key, in PEM), read the same way for etcd
 * and for kube-apiserver. Each failure names the file and the option it came from; none quotes the file.
 */
public final class PemFiles {
    private PemFiles() {
    }

    /** Every certificate in a PEM file; {@code what} is the operator's name for it ("etcd CA certificate"). */
    public static X509Certificate[] certificates(Path file, String option, String what) {
        try (InputStream in = Files.newInputStream(requireFile(file, option, what))) {
            X509Certificate[] certs = CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
                    .map(X509Certificate.class::cast).toArray(X509Certificate[]::new);
            if (certs.length == 0) {
                throw new CommandRefused("the " + what + " " + file + " (" + option + ") holds no PEM certificate");
            }
            return certs;
        } catch (AccessDeniedException e) {
            throw new CommandRefused(unreadable(file, option, what));
        } catch (IOException | CertificateException e) {
            throw new CommandRefused("the " + what + " " + file + " (" + option + ") is not a PEM certificate: give the "
                    + "file that begins with -----BEGIN CERTIFICATE-----");
        }
    }

    /**
     * Every PEM form kube-apiserver and etcdctl take: PKCS#8, RSA PKCS#1 (kubeadm) and EC SEC1 (k3s, rke2), an
     * {@code EC PARAMETERS} block before the key included. Never says a key byte; {@code certOption} is the flag of
     * the certificate it belongs with.
     */
    public static PrivateKey privateKey(Path file, String option, String certOption, String what) {
        try (PEMParser pem = new PEMParser(Files.newBufferedReader(requireFile(file, option, what),
                StandardCharsets.US_ASCII))) {
            JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
            for (Object item = pem.readObject(); item != null; item = pem.readObject()) {
                if (item instanceof PEMKeyPair pair) {
                    return converter.getKeyPair(pair).getPrivate();
                }
                if (item instanceof PrivateKeyInfo info) {
                    return converter.getPrivateKey(info);
                }
                if (item instanceof PEMEncryptedKeyPair || item instanceof PKCS8EncryptedPrivateKeyInfo) {
                    throw new CommandRefused("the " + what + " " + file + " (" + option + ") is encrypted with a "
                            + "passphrase: give an unencrypted key, as kube-apiserver and etcdctl use");
                }
                // an "EC PARAMETERS" block before the key, as `openssl ecparam -genkey` writes: skip it
            }
        } catch (AccessDeniedException e) {
            throw new CommandRefused(unreadable(file, option, what));
        } catch (IOException | RuntimeException e) {
            if (e instanceof CommandRefused refused) {
                throw refused;
            }
            // no parser message: it could quote the file
        }
        throw new CommandRefused("the " + what + " " + file + " (" + option + ") holds no PEM private key: give the key "
                + "of " + certOption + " (BEGIN PRIVATE KEY, BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY)");
    }

    private static Path requireFile(Path file, String option, String what) {
        if (!Files.exists(file)) {
            throw new CommandRefused("the " + what + " " + file + " (" + option + "): no such file. Check the path "
                    + "(the flag, its environment variable or the node configuration file)");
        }
        return file;
    }

    private static String unreadable(Path file, String option, String what) {
        return "cannot read the " + what + " " + file + " (" + option + "): permission denied. Run as root (or the user "
                + "that owns it)";
    }
}
