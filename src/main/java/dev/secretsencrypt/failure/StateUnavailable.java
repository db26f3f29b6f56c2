package dev.secretsencrypt.failure;

import java.util.regex.Pattern;

/** The state cannot be read or written: unreachable etcd, wrong token, damaged file. The message says what to do. */
public final class StateUnavailable extends OperatorError {
    private static final long serialVersionUID = 1L;

    // "io.grpc.StatusRuntimeException: UNAVAILABLE: io exception" says nothing to an operator but the part after it
    private static final Pattern CLASS_NAME = Pattern.compile("\\b(?:[a-z][a-z0-9_]*\\.)+[A-Z]\\w*(?:Exception|Error)(?::\\s*)?");

    public StateUnavailable(String message) {
        super(readable(message));
    }

    public StateUnavailable(String message, Throwable cause) {
        super(readable(message), cause);
    }

    /** The message without Java class names (a library's exception text embeds them). */
    public static String readable(String message) {
        return CLASS_NAME.matcher(message).replaceAll("");
    }
}
