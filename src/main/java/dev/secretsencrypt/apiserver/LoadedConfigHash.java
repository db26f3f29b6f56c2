package dev.secretsencrypt.apiserver;

import dev.secretsencrypt.config.ConfigFiles;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;

/**
 * The digest of an encryption config file as kube-apiserver reports it in the {@code hash} label of
 * {@code apiserver_encryption_config_controller_last_config_info}: the sha256 of the file bytes it read.
 *
 * <p>kube-apiserver 1.37 writes it as {@code sha256:<64 lowercase hex>}
 * ({@code k8s.io/apiserver/pkg/server/options/encryptionconfig.computeEncryptionConfigHash}); the tool's own
 * reports ({@code <stage>-<hex>}) carry the bare hex. Both forms are read, so a comparison never depends on
 * which one a release prints.
 */
public record LoadedConfigHash(String sha256Hex) {

    /** The prefix kube-apiserver 1.37 puts before the hex digest. */
    public static final String SHA256_PREFIX = "sha256:";

    public LoadedConfigHash {
        if (!isHexDigest(sha256Hex)) {
            throw new IllegalArgumentException("a sha256 digest is 64 lowercase hex characters");
        }
    }

    /** What a kube-apiserver that loaded exactly these bytes reports. */
    public static LoadedConfigHash ofFile(byte[] fileBytes) {
        return new LoadedConfigHash(ConfigFiles.sha256Hex(fileBytes));
    }

    /** Reads a {@code hash} label in either form, {@code sha256:<hex>} or bare {@code <hex>}; empty for anything else. */
    public static Optional<LoadedConfigHash> fromLabel(String label) {
        String hex = label.startsWith(SHA256_PREFIX) ? label.substring(SHA256_PREFIX.length()) : label;
        String lower = hex.toLowerCase(Locale.ROOT);
        return isHexDigest(lower) ? Optional.of(new LoadedConfigHash(lower)) : Optional.empty();
    }

    /** The label exactly as kube-apiserver 1.37 prints it: {@code sha256:<hex>}. */
    public String label() {
        return SHA256_PREFIX + sha256Hex;
    }

    private static boolean isHexDigest(String s) {
        return s != null && s.length() == 64 && s.chars().allMatch(c -> HexFormat.isHexDigit(c) && !Character.isUpperCase(c));
    }
}
