package dev.secretsencrypt.certs;

import java.io.IOException;
import java.io.InputStreamReader;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * The certificates and private keys of one PEM file or Secret value, in file order. Private keys are kept only to
 * check that they match a certificate; nothing here ever renders them. Encrypted keys, CSRs and public keys are
 * skipped: they carry nothing to check.
 */
public record PemContents(List<X509Certificate> certificates, List<PrivateKey> privateKeys, int unreadableBlocks) {
    private static final byte[] BEGIN = "-----BEGIN ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] BEGIN_CERTIFICATE = "-----BEGIN CERTIFICATE-----".getBytes(StandardCharsets.US_ASCII);

    public PemContents {
        certificates = List.copyOf(certificates);
        privateKeys = List.copyOf(privateKeys);
    }

    public static boolean hasCertificate(byte[] bytes) {
        return indexOf(bytes, BEGIN_CERTIFICATE) >= 0;
    }

    public static boolean hasPem(byte[] bytes) {
        return indexOf(bytes, BEGIN) >= 0;
    }

    public static PemContents parse(byte[] bytes) {
        List<X509Certificate> certificates = new ArrayList<>();
        List<PrivateKey> keys = new ArrayList<>();
        int unreadable = 0;
        JcaX509CertificateConverter certs = new JcaX509CertificateConverter();
        JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
        try (PEMParser parser = new PEMParser(new InputStreamReader(new ByteArrayInputStream(bytes),
                StandardCharsets.US_ASCII))) {
            while (true) {
                Object block;
                try {
                    block = parser.readObject();
                } catch (IOException | RuntimeException malformed) {
                    // the parser cannot resynchronise inside a broken block: what came before it still counts
                    unreadable++;
                    break;
                }
                if (block == null) {
                    break;
                }
                try {
                    if (block instanceof X509CertificateHolder holder) {
                        certificates.add(certs.getCertificate(holder));
                    } else if (block instanceof PEMKeyPair pair) {
                        keys.add(converter.getPrivateKey(pair.getPrivateKeyInfo()));
                    } else if (block instanceof PrivateKeyInfo info) {
                        keys.add(converter.getPrivateKey(info));
                    }
                } catch (CertificateException | IOException | RuntimeException unusable) {
                    unreadable++;
                }
            }
        } catch (IOException closing) {
            // reading from memory: close cannot fail
        }
        return new PemContents(certificates, keys, unreadable);
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        // ISO-8859-1 maps every byte to one char, so a String search is a byte search
        return new String(haystack, StandardCharsets.ISO_8859_1).indexOf(new String(needle, StandardCharsets.ISO_8859_1));
    }
}
