package dev.secretsencrypt.envelope;

import java.nio.charset.StandardCharsets;

/**
 * A stored value that no configured key can read. The message names the etcd key and the reason only:
 * never a byte of the value or of a key, since both end up in logs and terminal scrollback.
 */
public final class UnreadableValue extends Exception {
    private static final long serialVersionUID = 1L;

    private final String etcdKey;
    private final String reason;

    public UnreadableValue(byte[] etcdKey, String reason) {
        this(printable(etcdKey), reason);
    }

    private UnreadableValue(String etcdKey, String reason) {
        super("cannot read " + etcdKey + ": " + reason);
        this.etcdKey = etcdKey;
        this.reason = reason;
    }

    /** The etcd key as text, with control characters replaced so it cannot garble a terminal. */
    public String etcdKey() {
        return etcdKey;
    }

    /** Why, without the etcd key: {@code aescbc/key1: invalid padding (wrong key or corrupted value)}. */
    public String reason() {
        return reason;
    }

    /** An etcd key as text for operator output, control characters replaced. */
    public static String printable(byte[] etcdKey) {
        StringBuilder text = new StringBuilder(new String(etcdKey, StandardCharsets.UTF_8));
        for (int i = 0; i < text.length(); i++) {
            if (Character.isISOControl(text.charAt(i))) {
                text.setCharAt(i, '?');
            }
        }
        return text.toString();
    }
}
