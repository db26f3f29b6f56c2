package dev.secretsencrypt.config;

import java.util.List;
import java.util.stream.Collectors;

/** Go's fmt spellings that Kubernetes messages are made of, so ours read the same. */
final class GoText {
    private GoText() {
    }

    /** strconv.Quote / {@code %q}: double quotes, Go escapes, printable Unicode kept as is. */
    static String quote(String s) {
        StringBuilder out = new StringBuilder(s.length() + 2).append('"');
        s.codePoints().forEach(cp -> appendQuoted(out, cp));
        return out.append('"').toString();
    }

    /** {@code %v} of an int slice: {@code [16 24 32]}. */
    static String intSlice(List<Integer> values) {
        return values.stream().map(String::valueOf).collect(Collectors.joining(" ", "[", "]"));
    }

    /** {@code %#v} of a string slice: {@code []string{"secrets", "*."}}. */
    static String stringSliceGoSyntax(List<String> values) {
        return values.stream().map(GoText::quote).collect(Collectors.joining(", ", "[]string{", "}"));
    }

    private static void appendQuoted(StringBuilder out, int cp) {
        switch (cp) {
            case '"' -> out.append("\\\"");
            case '\\' -> out.append("\\\\");
            case 0x07 -> out.append("\\a");
            case '\b' -> out.append("\\b");
            case '\f' -> out.append("\\f");
            case '\n' -> out.append("\\n");
            case '\r' -> out.append("\\r");
            case '\t' -> out.append("\\t");
            case 0x0b -> out.append("\\v");
            default -> {
                if (isPrint(cp)) {
                    out.appendCodePoint(cp);
                } else if (cp < 0x80) {
                    out.append(String.format("\\x%02x", cp));
                } else if (cp < 0x10000) {
                    out.append(String.format("\\u%04x", cp));
                } else {
                    out.append(String.format("\\U%08x", cp));
                }
            }
        }
    }

    // Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
    private static boolean isPrint(int cp) {
        if (cp == ' ') {
            return true;
        }
        return switch (Character.getType(cp)) {
            case Character.UNASSIGNED, Character.CONTROL, Character.FORMAT, Character.SURROGATE,
                 Character.PRIVATE_USE, Character.SPACE_SEPARATOR, Character.LINE_SEPARATOR,
                 Character.PARAGRAPH_SEPARATOR -> false;
            default -> true;
        };
    }
}
