package dev.secretsencrypt.testing;

import java.io.StringWriter;
import java.math.BigInteger;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/** Certificates with chosen dates for the tests, made with BouncyCastle: CAs, leaves, and their PEM. */
public final class Pki {
    private static final AtomicLong SERIAL = new AtomicLong(1000);

    /** A certificate and its key pair. */
    public record Issued(X509Certificate cert, KeyPair keys) {
        public String certPem() {
            return pem(cert);
        }

        /** PKCS#8 ("PRIVATE KEY"), as kubeadm, cert-manager and KES write it. */
        public String keyPem() {
            try {
                return pem(new org.bouncycastle.openssl.jcajce.JcaPKCS8Generator(keys.getPrivate(), null));
            } catch (org.bouncycastle.util.io.pem.PemGenerationException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    private Pki() {
    }

    public static Issued ca(String dn, Instant notBefore, Instant notAfter) {
        KeyPair keys = ecKeys();
        return new Issued(build(new X500Principal(dn), keys, new X500Principal(dn), keys, notBefore, notAfter, true), keys);
    }

    /** A leaf for these names: DNS names, or IP literals (which become IP SANs). */
    public static Issued leaf(Issued issuer, String dn, Instant notBefore, Instant notAfter, String... dnsNames) {
        KeyPair keys = ecKeys();
        return new Issued(build(new X500Principal(dn), keys, issuer.cert().getSubjectX500Principal(), issuer.keys(),
                notBefore, notAfter, false, dnsNames), keys);
    }

    public static Issued selfSigned(String dn, Instant notBefore, Instant notAfter, String... dnsNames) {
        KeyPair keys = ecKeys();
        X500Principal name = new X500Principal(dn);
        return new Issued(build(name, keys, name, keys, notBefore, notAfter, false, dnsNames), keys);
    }

    public static KeyPair ecKeys() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static KeyPair rsaKeys() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
            g.initialize(2048);
            return g.generateKeyPair();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A certificate for {@code keys} issued by {@code issuer}: an intermediate CA when {@code ca}. */
    public static X509Certificate leafWithKeys(Issued issuer, String dn, KeyPair keys, Instant notBefore,
                                               Instant notAfter, boolean ca) {
        return build(new X500Principal(dn), keys, issuer.cert().getSubjectX500Principal(), issuer.keys(), notBefore,
                notAfter, ca);
    }

    /** A leaf with an RSA key, issued by {@code issuer}. */
    public static Issued rsaLeaf(Issued issuer, String dn, Instant notBefore, Instant notAfter) {
        KeyPair keys = rsaKeys();
        return new Issued(build(new X500Principal(dn), keys, issuer.cert().getSubjectX500Principal(), issuer.keys(),
                notBefore, notAfter, false), keys);
    }

    private static X509Certificate build(X500Principal subject, KeyPair subjectKeys, X500Principal issuer,
                                         KeyPair issuerKeys, Instant notBefore, Instant notAfter, boolean ca,
                                         String... dnsNames) {
        try {
            JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer,
                    BigInteger.valueOf(SERIAL.incrementAndGet()), Date.from(notBefore), Date.from(notAfter), subject,
                    subjectKeys.getPublic());
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
            if (dnsNames.length > 0) {
                GeneralName[] names = new GeneralName[dnsNames.length];
                for (int i = 0; i < names.length; i++) {
                    // an IP literal (127.0.0.1, ::1) is an IP SAN, as a serving certificate for a loopback URL needs
                    names[i] = new GeneralName(dnsNames[i].matches("[0-9.]+|.*:.*") ? GeneralName.iPAddress
                            : GeneralName.dNSName, dnsNames[i]);
                }
                b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names));
            }
            String algorithm = issuerKeys.getPrivate().getAlgorithm().equals("RSA") ? "SHA256withRSA" : "SHA256withECDSA";
            return new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder(algorithm).build(issuerKeys.getPrivate())));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    public static String pem(Object... objects) {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            for (Object o : objects) {
                w.writeObject(o);
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return out.toString();
    }
}
