package dev.secretsencrypt.config;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/** The keyed provider types, with their field name in the file and their name in `status`. */
public enum ProviderType {
    AESCBC("aescbc", "AES-CBC", List.of(16, 24, 32)),
    AESGCM("aesgcm", "AES-GCM", List.of(16, 24, 32)),
    SECRETBOX("secretbox", "XSalsa20-POLY1305", List.of(32));

    private final String field;
    private final String displayName;
    private final List<Integer> keyLengths;

    ProviderType(String field, String displayName, List<Integer> keyLengths) {
        this.field = field;
        this.displayName = displayName;
        this.keyLengths = keyLengths;
    }

    /** The field name in the EncryptionConfiguration and the envelope prefix: {@code aescbc}. */
    public String field() {
        return field;
    }

    public String displayName() {
        return displayName;
    }

    /** Accepted secret lengths in bytes, in the order Kubernetes prints them. */
    public List<Integer> keyLengths() {
        return keyLengths;
    }

    /** Name of a newly generated key of this type: {@code aescbckey}, then {@code aescbckey-<timestamp>}. */
    public String keyNameBase() {
        return field + "key";
    }

    public static Optional<ProviderType> byField(String field) {
        return Arrays.stream(values()).filter(t -> t.field.equals(field)).findFirst();
    }
}
