package dev.secretsencrypt.config;

import java.util.List;

/**
 * An EncryptionConfiguration that kube-apiserver would refuse, or a file that cannot be read as one.
 * The message is operator-facing and never holds key material or file text; there is deliberately no cause,
 * because parser exceptions quote the document they failed on.
 */
public final class InvalidConfig extends Exception {
    private final List<String> errors;

    public InvalidConfig(String message) {
        this(message, List.of());
    }

    public InvalidConfig(String message, List<String> errors) {
        super(message, null, false, false);
        this.errors = List.copyOf(errors);
    }

    /** The individual validation errors ({@code <path>: <Type>: <value>: <detail>}); empty for read/decode failures. */
    public List<String> errors() {
        return errors;
    }
}
