package dev.secretsencrypt.config;

import java.util.Base64;

/**
 * A named key. {@code secret} is the base64 text exactly as written in the file (kept verbatim so hashes are
 * reproducible). toString never shows it: key material must not reach output or logs.
 */
public record Key(String name, String secret) {
    public byte[] secretBytes() {
        return Base64.getDecoder().decode(secret);
    }

    public static Key generate(String name, byte[] secretBytes) {
        return new Key(name, Base64.getEncoder().encodeToString(secretBytes));
    }

    @Override
    public String toString() {
        return "Key[name=" + name + ", secret=REDACTED]";
    }
}
