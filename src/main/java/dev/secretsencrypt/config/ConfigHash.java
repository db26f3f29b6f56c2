package dev.secretsencrypt.config;

import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;

/**
 * The sha256 of an encryption config file's bytes: what kube-apiserver reports in the {@code hash} label of
 * {@code apiserver_encryption_config_controller_last_config_info}, what a server's report carries, what the cluster
 * state's config hashes to. One type for all three, so they are compared as values, never as text.
 *
 * <p>kube-apiserver 1.37 writes it as {@code sha256:<64 lowercase hex>}
 * ({@code k8s.io/apiserver/pkg/server/options/encryptionconfig.computeEncryptionConfigHash}); the tool's own
 * reports ({@code <stage>-<hex>}) carry the bare hex.
 */
public record ConfigHash(String hex) {
    /** The prefix kube-apiserver 1.37 puts before the hex digest. */
    public static final String SHA256_PREFIX = "sha256:";

    public ConfigHash {
        if (!isHexDigest(hex)) {
            throw new IllegalArgumentException("a sha256 digest is 64 lowercase hex characters");
        }
    }

    /** The hash of exactly these file bytes. */
    public static ConfigHash ofFile(byte[] fileBytes) {
        return new ConfigHash(ConfigFiles.sha256Hex(fileBytes));
    }

    /** Bare lowercase hex, as the tool's reports and records store it; empty for anything else. */
    public static Optional<ConfigHash> fromHex(String text) {
        return isHexDigest(text) ? Optional.of(new ConfigHash(text)) : Optional.empty();
    }

    /** Reads a {@code hash} label in either form, {@code sha256:<hex>} or bare {@code <hex>}; empty for anything else. */
    public static Optional<ConfigHash> fromLabel(String label) {
        String hex = label.startsWith(SHA256_PREFIX) ? label.substring(SHA256_PREFIX.length()) : label;
        return fromHex(hex.toLowerCase(Locale.ROOT));
    }

    /** The label exactly as kube-apiserver 1.37 prints it: {@code sha256:<hex>}. */
    public String label() {
        return SHA256_PREFIX + hex;
    }

    /** The first 12 hex digits, for messages where two hashes only need telling apart. */
    public String shortForm() {
        return hex.substring(0, 12);
    }

    /** The bare hex, as reports store it. */
    @Override
    public String toString() {
        return hex;
    }

    private static boolean isHexDigest(String s) {
        return s != null && s.length() == 64 && s.chars().allMatch(c -> HexFormat.isHexDigit(c) && !Character.isUpperCase(c));
    }
}
