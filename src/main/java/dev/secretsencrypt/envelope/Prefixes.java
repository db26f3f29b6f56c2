package dev.secretsencrypt.envelope;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/** The {@code k8s:enc:<provider>:v1:<key>:} prefixes that say which key wrote a stored value. */
final class Prefixes {
    static final byte[] ENCRYPTED = ascii("k8s:enc:");

    // Longest key or provider name worth echoing; anything longer is more likely garbage than a name.
    private static final int MAX_ECHOED = 253;

    private Prefixes() {
    }

    static byte[] of(String provider, String version, String keyName) {
        return ("k8s:enc:" + provider + ":" + version + ":" + keyName + ":").getBytes(StandardCharsets.UTF_8);
    }

    static boolean startsWith(byte[] value, byte[] prefix) {
        return value.length >= prefix.length && Arrays.equals(value, 0, prefix.length, prefix, 0, prefix.length);
    }

    static boolean isEncrypted(byte[] value) {
        return startsWith(value, ENCRYPTED);
    }

    /** Why no configured key could even try a value; echoes the provider and key name only when they are text. */
    static String unmatched(byte[] value) {
        if (!isEncrypted(value)) {
            return "the value is stored unencrypted and no identity provider is configured to read it";
        }
        int at = ENCRYPTED.length;
        String provider = segment(value, at);
        if (provider == null) {
            return "the value has an unrecognised k8s:enc: prefix";
        }
        at += provider.length() + 1;
        String version = segment(value, at);
        if (version == null) {
            return "no configured key matches its prefix k8s:enc:" + provider + ":";
        }
        at += version.length() + 1;
        String name = segment(value, at);
        if (provider.equals("kms")) {
            return KmsEnvelope.reason(version, name);
        }
        String shown = "k8s:enc:" + provider + ":" + version + ":" + (name == null ? "" : name + ":");
        return "no configured key matches its prefix " + shown + " (was the key removed from the encryption config?)";
    }

    /** The printable text from {@code at} up to the next colon, or null when there is none. */
    private static String segment(byte[] value, int at) {
        for (int i = at; i < value.length && i - at <= MAX_ECHOED; i++) {
            int b = value[i] & 0xff;
            if (b == ':') {
                return i == at ? null : new String(value, at, i - at, StandardCharsets.US_ASCII);
            }
            if (b <= 0x20 || b >= 0x7f) {
                return null;
            }
        }
        return null;
    }

    private static byte[] ascii(String text) {
        return text.getBytes(StandardCharsets.US_ASCII);
    }
}
