package dev.secretsencrypt.config;

import java.io.IOException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * Reading, validating and writing EncryptionConfiguration files as kube-apiserver reads them
 * ({@code --encryption-provider-config}): strict JSON/YAML decoding, its validation rules and wording, and one
 * canonical JSON form so that every server that holds the same config holds the same bytes and hash.
 */
public final class ConfigFiles {
    private ConfigFiles() {
    }

    /** Decodes (JSON or YAML, whatever {@code source} is called) and validates; {@code source} names the file in messages. */
    public static EncryptionConfig parse(byte[] bytes, String source) throws InvalidConfig {
        String quoted = GoText.quote(source);
        if (isBlank(bytes)) {
            throw new InvalidConfig("encryption provider configuration file " + quoted + " is empty");
        }
        ConfigDraft draft;
        try {
            draft = StrictDecoder.decode(ConfigDocument.read(bytes));
        } catch (DecodeFailure e) {
            throw new InvalidConfig("error decoding encryption provider configuration file " + quoted + ": " + e.getMessage());
        }
        List<String> errors = messages(ConfigValidation.errors(draft));
        if (!errors.isEmpty()) {
            throw new InvalidConfig("invalid encryption provider configuration file " + quoted + ": "
                    + ConfigValidation.aggregate(errors), errors);
        }
        return draft.toConfig();
    }

    public static EncryptionConfig read(Path path) throws InvalidConfig {
        byte[] bytes;
        try {
            bytes = BoundedFiles.read(path, BoundedFiles.CONFIG_LIMIT);
        } catch (IOException e) {
            throw new InvalidConfig("error reading encryption provider configuration file " + GoText.quote(path.toString())
                    + ": " + OsReason.of(e));
        }
        return parse(bytes, path.toString());
    }

    /** Every validation error kube-apiserver would report, as {@code <path>: <Type>: <value>: <detail>}; empty when valid. */
    public static List<String> validate(EncryptionConfig c) {
        return messages(ConfigValidation.errors(ConfigDraft.of(c)));
    }

    /** The canonical JSON bytes of {@code c}; {@code parse(canonicalBytes(c))} gives {@code c} back. */
    public static byte[] canonicalBytes(EncryptionConfig c) {
        return CanonicalJson.of(c);
    }

    /** Lowercase hex SHA-256, the digest kube-apiserver reports for its config file. */
    public static String sha256Hex(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    /** Writes the canonical bytes atomically (0600 file, 0700 new directories); an invalid config is refused and nothing is written. */
    public static void write(Path file, EncryptionConfig c) throws IOException, InvalidConfig {
        List<String> errors = validate(c);
        if (!errors.isEmpty()) {
            throw new InvalidConfig("refusing to write an invalid encryption configuration to " + GoText.quote(file.toString())
                    + ", kube-apiserver would not start with it: " + ConfigValidation.aggregate(errors), errors);
        }
        AtomicFiles.write(file, canonicalBytes(c));
    }

    // apimachinery's ToAggregate prints an identical message once.
    private static List<String> messages(List<FieldError> errors) {
        LinkedHashSet<String> unique = new LinkedHashSet<>();
        errors.forEach(e -> unique.add(e.toString()));
        return List.copyOf(unique);
    }

    private static boolean isBlank(byte[] bytes) {
        for (byte b : bytes) {
            if (b != ' ' && b != '\t' && b != '\r' && b != '\n') {
                return false;
            }
        }
        return true;
    }
}
