package dev.secretsencrypt.apiserver;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Which kube-apiserver it is: the name of the identity lease it renews in {@code kube-system} every 10 s, which is
 * also what its metrics label {@code apiserver_id_hash} hashes. kube-apiserver derives it from the host name it runs
 * under ({@code k8s.io/apiserver/pkg/server/config.go} {@code NewConfig}): {@code "apiserver-"} + the lower-case
 * base32 (no padding) of the first 16 bytes of sha256(u16 length + host name + u16 length + "kube-apiserver"). So the
 * host a server's apiserver runs on names it, stable across restarts; two apiservers on one host name share it.
 */
public record ApiserverIdentity(String leaseName) {
    // kube-apiserver 1.27+ writes 26 base32 characters; any name of that family is read, whatever a release makes
    private static final Pattern NAME = Pattern.compile("apiserver-[a-z0-9][a-z0-9.-]*");
    private static final String COMPONENT = "kube-apiserver";
    private static final char[] BASE32 = "abcdefghijklmnopqrstuvwxyz234567".toCharArray();

    public ApiserverIdentity {
        if (leaseName == null || leaseName.isEmpty() || leaseName.length() > 253) {
            throw new IllegalArgumentException("an apiserver identity is its identity lease's name");
        }
    }

    /** The identity kube-apiserver takes when it runs under {@code hostname}. */
    public static ApiserverIdentity ofHostname(String hostname) {
        ByteArrayOutputStream data = new ByteArrayOutputStream();
        lengthPrefixed(data, hostname.getBytes(StandardCharsets.UTF_8));
        lengthPrefixed(data, COMPONENT.getBytes(StandardCharsets.UTF_8));
        byte[] digest = sha256(data.toByteArray());
        return new ApiserverIdentity("apiserver-" + base32(digest, 16));
    }

    /** A lease name as kube-apiserver makes it, read from etcd; empty for any other lease in kube-system. */
    public static Optional<ApiserverIdentity> ofLeaseName(String name) {
        return NAME.matcher(name).matches() ? Optional.of(new ApiserverIdentity(name)) : Optional.empty();
    }

    /** The {@code apiserver_id_hash} label its metrics carry: {@code sha256:<hex of sha256(lease name)>}. */
    public String idHash() {
        return "sha256:" + HexFormat.of().formatHex(sha256(leaseName.getBytes(StandardCharsets.UTF_8)));
    }

    /** Whether a metrics label names this apiserver (compared on the hex, whatever the case). */
    public boolean hashedAs(String label) {
        return idHash().equals(label.toLowerCase(Locale.ROOT));
    }

    @Override
    public String toString() {
        return leaseName;
    }

    // cryptobyte's AddUint16LengthPrefixed: two bytes of length, big-endian, then the bytes
    private static void lengthPrefixed(ByteArrayOutputStream out, byte[] bytes) {
        out.write(bytes.length >>> 8);
        out.write(bytes.length & 0xff);
        out.writeBytes(bytes);
    }

    // RFC 4648 base32 of the first n bytes, lower case, without padding (what Go's StdEncoding.WithPadding(NoPadding) writes)
    private static String base32(byte[] bytes, int n) {
        StringBuilder out = new StringBuilder();
        int buffer = 0;
        int bits = 0;
        for (int i = 0; i < n; i++) {
            buffer = (buffer << 8) | (bytes[i] & 0xff);
            bits += 8;
            while (bits >= 5) {
                out.append(BASE32[(buffer >>> (bits - 5)) & 31]);
                bits -= 5;
            }
        }
        if (bits > 0) {
            out.append(BASE32[(buffer << (5 - bits)) & 31]);
        }
        return out.toString();
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }
}
