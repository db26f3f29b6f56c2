package dev.secretsencrypt.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * JSON values read as Go's encoding/json reads them into kube-apiserver's types, with its error wording: for the
 * strict decoder. A value that may be a secret is never echoed: not the offending value, not a field name that long.
 */
final class GoJson {
    private GoJson() {
    }

    /** Where a value sits: the indexed path for strict errors, the Go struct and dotted path for type errors. */
    record At(String struct, String dotted, String indexed) {
        At field(String parentStruct, String name) {
            return new At(parentStruct, dotted.isEmpty() ? name : dotted + "." + name, indexed.isEmpty() ? name : indexed + "." + name);
        }

        At index(int i) {
            return new At(struct, dotted, indexed + "[" + i + "]");
        }
    }

    // metav1.Duration decodes a JSON string with time.ParseDuration; the text is kept as written.
    static String duration(JsonNode v) throws DecodeFailure {
        if (v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw new DecodeFailure("json: cannot unmarshal " + jsonKind(v) + " into Go value of type string");
        }
        try {
            GoDuration.parse(v.textValue());
        } catch (GoDuration.Invalid e) {
            throw new DecodeFailure(e.getMessage());
        }
        return v.textValue();
    }

    static Integer int32(JsonNode v, At at) throws DecodeFailure {
        if (v.isNull()) {
            return null;
        }
        if (!v.isNumber()) {
            throw typeError(v, at, "int32");
        }
        BigInteger value = v.isIntegralNumber() ? v.bigIntegerValue() : null;
        if (value == null || value.bitLength() > 31) {
            // Go names the number here; a cache size is not secret.
            throw new DecodeFailure("json: cannot unmarshal number " + v.asText() + " into Go struct field "
                    + at.struct() + "." + at.dotted() + " of type int32");
        }
        return value.intValue();
    }

    static String string(JsonNode v, At at) throws DecodeFailure {
        if (v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw typeError(v, at, "string");
        }
        return v.textValue();
    }

    static List<JsonNode> array(JsonNode v, At at, String goType) throws DecodeFailure {
        if (v.isNull()) {
            return List.of();
        }
        if (!v.isArray()) {
            throw typeError(v, at, goType);
        }
        List<JsonNode> items = new ArrayList<>();
        v.elements().forEachRemaining(items::add);
        return items;
    }

    /** True for an object, false for null (a nil pointer in Go); anything else is a type error. */
    static boolean object(JsonNode v, At at, String goType) throws DecodeFailure {
        if (v.isNull()) {
            return false;
        }
        if (!v.isObject()) {
            throw typeError(v, at, goType);
        }
        return true;
    }

    static Iterable<Map.Entry<String, JsonNode>> fields(JsonNode node) {
        return node::fields;
    }

    // The shortest AES or secretbox secret is 16 bytes, 24 characters of base64: no field name is that long.
    private static final int SECRET_SIZED = 24;
    static final String LONG_NOT_SHOWN = " (its name is not shown: a name that long may be a secret pasted in "
            + "the wrong place)";

    /** The parent path of a field whose name is long enough to be a pasted secret. */
    static Optional<String> secretSized(String path) {
        int dot = path.lastIndexOf('.');
        String name = path.substring(dot + 1);
        return name.length() >= SECRET_SIZED ? Optional.of(dot < 0 ? "" : path.substring(0, dot)) : Optional.empty();
    }

    // A secret pasted as a mapping key would otherwise be echoed whole, as kube-apiserver does.
    static final String NOT_SHOWN = " (a key entry holds only name and secret; the field's name is not shown, "
            + "as it may be a secret)";
    private static final Pattern KEY_ENTRY = Pattern.compile("^(.*\\.keys\\[\\d+\\])\\.(.*)$",
            Pattern.DOTALL);

    /** The key entry ({@code resources[0].providers[0].aescbc.keys[0]}) a field path lies inside, other than its own fields. */
    static Optional<String> keyEntryField(String path) {
        Matcher m = KEY_ENTRY.matcher(path);
        if (!m.matches() || m.group(2).equals("name") || m.group(2).equals("secret")) {
            return Optional.empty();
        }
        return Optional.of(m.group(1));
    }

    // Go's UnmarshalTypeError; the offending value itself is never printed (it may be a secret).
    static DecodeFailure typeError(JsonNode v, At at, String goType) {
        String where = at.struct().isEmpty() ? "Go value" : "Go struct field " + at.struct() + "." + at.dotted();
        return new DecodeFailure("json: cannot unmarshal " + jsonKind(v) + " into " + where + " of type " + goType);
    }

    static String jsonKind(JsonNode v) {
        if (v.isTextual()) {
            return "string";
        }
        if (v.isNumber()) {
            return "number";
        }
        if (v.isBoolean()) {
            return "bool";
        }
        return v.isArray() ? "array" : "object";
    }

    static String orEmpty(String s) {
        return s == null ? "" : s;
    }
}
