package dev.secretsencrypt.config;

import java.util.Base64;
import java.util.Optional;

/**
 * A named key. {@code secret} is the base64 text exactly as written in the file (kept verbatim so hashes are
 * reproducible). toString never shows it: key material must not reach output or logs.
 */
public record Key(String name, String secret) {
    public byte[] secretBytes() {
        return decodeStdBase64(secret).orElseThrow(() -> new IllegalArgumentException("key " + name + ": secret is not base64"));
    }

    /**
     * Go's base64.StdEncoding.DecodeString, which kube-apiserver uses: padding required, CR and LF ignored
     * (a YAML block scalar may wrap a secret), anything else outside the alphabet rejected.
     */
    public static Optional<byte[]> decodeStdBase64(String text) {
        String compact = text.replace("\r", "").replace("\n", "");
        if (compact.length() % 4 != 0) {
            return Optional.empty();
        }
        try {
            return Optional.of(Base64.getDecoder().decode(compact));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    public static Key generate(String name, byte[] secretBytes) {
        return new Key(name, Base64.getEncoder().encodeToString(secretBytes));
    }

    @Override
    public String toString() {
        return "Key[name=" + name + ", secret=REDACTED]";
    }
}
