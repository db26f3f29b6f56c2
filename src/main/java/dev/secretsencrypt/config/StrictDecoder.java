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
 * Decodes a document tree into a {@link ConfigDraft} the way kube-apiserver's strict universal decoder does:
 * type/kind first, then the first type mismatch (Go's json wording), then every unknown or repeated field as
 * {@code strict decoding error: unknown field "resources[0].providers[3].kms.pandas"}. Field names are
 * case-sensitive; a JSON null leaves a field at its zero value, as in Go.
 */
final class StrictDecoder {
    static final String LEGACY_API_VERSION = "v1";
    static final String LEGACY_KIND = "EncryptionConfig";

    private final List<String> strictErrors = new ArrayList<>();

    private StrictDecoder() {
    }

    static ConfigDraft decode(ConfigDocument document) throws DecodeFailure {
        JsonNode root = document.root();
        TypeMeta meta = TypeMeta.of(root);
        StrictDecoder decoder = new StrictDecoder();
        document.duplicateFields().forEach(f -> decoder.strictErrors.add(keyEntryField(f)
                .map(entry -> "duplicate field in " + GoText.quote(entry) + NOT_SHOWN)
                .or(() -> secretSized(f).map(parent -> "duplicate field in " + GoText.quote(parent) + LONG_NOT_SHOWN))
                .orElseGet(() -> "duplicate field " + GoText.quote(f))));
        ConfigDraft draft = decoder.config(root, meta);
        if (!decoder.strictErrors.isEmpty()) {
            throw new DecodeFailure("strict decoding error: " + String.join(", ", decoder.strictErrors));
        }
        return draft;
    }

    /** The apiVersion/kind check that runs before the body is decoded. */
    private record TypeMeta(String apiVersion, String kind) {
        static TypeMeta of(JsonNode root) throws DecodeFailure {
            if (root.isNull()) {
                throw new DecodeFailure("Object 'Kind' is missing");
            }
            if (!root.isObject()) {
                throw new DecodeFailure("couldn't get version/kind; json parse error: json: cannot unmarshal " + jsonKind(root)
                        + " into Go value of type struct { APIVersion string \"json:\\\"apiVersion,omitempty\\\"\"; "
                        + "Kind string \"json:\\\"kind,omitempty\\\"\" }");
            }
            String apiVersion = metaString(root, "apiVersion");
            String kind = metaString(root, "kind");
            String version = apiVersion;
            long slashes = apiVersion.chars().filter(c -> c == '/').count();
            if (slashes > 1) {
                throw new DecodeFailure("unexpected GroupVersion string: " + apiVersion);
            } else if (slashes == 1) {
                version = apiVersion.substring(apiVersion.indexOf('/') + 1);
            }
            // Never the document itself, as Kubernetes prints it: the file holds secrets.
            if (kind.isEmpty()) {
                throw new DecodeFailure("Object 'Kind' is missing");
            }
            if (version.isEmpty()) {
                throw new DecodeFailure("Object 'apiVersion' is missing");
            }
            boolean current = apiVersion.equals(EncryptionConfig.API_VERSION) && kind.equals(EncryptionConfig.KIND);
            boolean legacy = apiVersion.equals(LEGACY_API_VERSION) && kind.equals(LEGACY_KIND);
            if (!current && !legacy) {
                throw new DecodeFailure("no kind " + GoText.quote(kind) + " is registered for version " + GoText.quote(apiVersion));
            }
            return new TypeMeta(apiVersion, kind);
        }

        private static String metaString(JsonNode root, String field) throws DecodeFailure {
            JsonNode v = root.get(field);
            if (v == null || v.isNull()) {
                return "";
            }
            if (!v.isTextual()) {
                throw new DecodeFailure("couldn't get version/kind; json parse error: json: cannot unmarshal " + jsonKind(v)
                        + " into Go struct field ." + field + " of type string");
            }
            return v.textValue();
        }
    }

    /** Where a value sits: the indexed path for strict errors, the Go struct and dotted path for type errors. */
    private record At(String struct, String dotted, String indexed) {
        At field(String parentStruct, String name) {
            return new At(parentStruct, dotted.isEmpty() ? name : dotted + "." + name, indexed.isEmpty() ? name : indexed + "." + name);
        }

        At index(int i) {
            return new At(struct, dotted, indexed + "[" + i + "]");
        }
    }

    private ConfigDraft config(JsonNode root, TypeMeta meta) throws DecodeFailure {
        List<ConfigDraft.Rule> rules = List.of();
        At top = new At("", "", "");
        for (Map.Entry<String, JsonNode> f : fields(root)) {
            At at = top.field("EncryptionConfiguration", f.getKey());
            switch (f.getKey()) {
                case "kind", "apiVersion" -> { }
                case "resources" -> {
                    List<ConfigDraft.Rule> decoded = new ArrayList<>();
                    List<JsonNode> items = array(f.getValue(), at, "[]v1.ResourceConfiguration");
                    for (int i = 0; i < items.size(); i++) {
                        decoded.add(rule(items.get(i), at.index(i)));
                    }
                    rules = decoded;
                }
                default -> unknown(at);
            }
        }
        return new ConfigDraft(meta.apiVersion(), meta.kind(), rules);
    }

    private ConfigDraft.Rule rule(JsonNode node, At at) throws DecodeFailure {
        object(node, at, "v1.ResourceConfiguration");
        List<String> resources = List.of();
        List<ProviderElement> providers = List.of();
        for (Map.Entry<String, JsonNode> f : fields(node)) {
            At child = at.field("ResourceConfiguration", f.getKey());
            switch (f.getKey()) {
                case "resources" -> {
                    List<String> names = new ArrayList<>();
                    List<JsonNode> items = array(f.getValue(), child, "[]string");
                    for (int i = 0; i < items.size(); i++) {
                        names.add(orEmpty(string(items.get(i), child.index(i))));
                    }
                    resources = names;
                }
                case "providers" -> {
                    List<ProviderElement> elements = new ArrayList<>();
                    List<JsonNode> items = array(f.getValue(), child, "[]v1.ProviderConfiguration");
                    for (int i = 0; i < items.size(); i++) {
                        elements.add(element(items.get(i), child.index(i)));
                    }
                    providers = elements;
                }
                default -> unknown(child);
            }
        }
        return new ConfigDraft.Rule(resources, providers);
    }

    private ProviderElement element(JsonNode node, At at) throws DecodeFailure {
        object(node, at, "v1.ProviderConfiguration");
        List<Provider> declared = new ArrayList<>();
        for (Map.Entry<String, JsonNode> f : fields(node)) {
            At child = at.field("ProviderConfiguration", f.getKey());
            JsonNode v = f.getValue();
            switch (f.getKey()) {
                case "aescbc" -> keyed(v, child, ProviderType.AESCBC, "v1.AESConfiguration", "AESConfiguration", declared);
                case "aesgcm" -> keyed(v, child, ProviderType.AESGCM, "v1.AESConfiguration", "AESConfiguration", declared);
                case "secretbox" -> keyed(v, child, ProviderType.SECRETBOX, "v1.SecretboxConfiguration", "SecretboxConfiguration", declared);
                case "identity" -> {
                    // identity must be {} exactly: any field in it is unknown; null means "not set", as in Go.
                    if (object(v, child, "v1.IdentityConfiguration")) {
                        fields(v).forEach(e -> unknown(child.field("IdentityConfiguration", e.getKey())));
                        declared.add(new IdentityProvider());
                    }
                }
                case "kms" -> {
                    if (object(v, child, "v1.KMSConfiguration")) {
                        declared.add(kms(v, child));
                    }
                }
                default -> unknown(child);
            }
        }
        return new ProviderElement(declared);
    }

    private void keyed(JsonNode node, At at, ProviderType type, String goType, String struct, List<Provider> declared) throws DecodeFailure {
        if (!object(node, at, goType)) {
            return;
        }
        List<Key> keys = List.of();
        for (Map.Entry<String, JsonNode> f : fields(node)) {
            At child = at.field(struct, f.getKey());
            if (f.getKey().equals("keys")) {
                List<Key> decoded = new ArrayList<>();
                List<JsonNode> items = array(f.getValue(), child, "[]v1.Key");
                for (int i = 0; i < items.size(); i++) {
                    decoded.add(key(items.get(i), child.index(i)));
                }
                keys = decoded;
            } else {
                unknown(child);
            }
        }
        declared.add(new KeyedProvider(type, keys));
    }

    private Key key(JsonNode node, At at) throws DecodeFailure {
        object(node, at, "v1.Key");
        String name = "";
        String secret = "";
        for (Map.Entry<String, JsonNode> f : fields(node)) {
            At child = at.field("Key", f.getKey());
            switch (f.getKey()) {
                case "name" -> name = orEmpty(string(f.getValue(), child));
                case "secret" -> secret = orEmpty(string(f.getValue(), child));
                default -> unknown(child);
            }
        }
        return new Key(name, secret);
    }

    private KmsProvider kms(JsonNode node, At at) throws DecodeFailure {
        String apiVersion = null;
        String name = null;
        String endpoint = null;
        Integer cachesize = null;
        String timeout = null;
        for (Map.Entry<String, JsonNode> f : fields(node)) {
            At child = at.field("KMSConfiguration", f.getKey());
            JsonNode v = f.getValue();
            switch (f.getKey()) {
                case "apiVersion" -> apiVersion = string(v, child);
                case "name" -> name = string(v, child);
                case "endpoint" -> endpoint = string(v, child);
                case "cachesize" -> cachesize = int32(v, child);
                case "timeout" -> timeout = duration(v);
                default -> unknown(child);
            }
        }
        return new KmsProvider(apiVersion, name, endpoint, cachesize, timeout);
    }

    // metav1.Duration decodes a JSON string with time.ParseDuration; the text is kept as written.
    private static String duration(JsonNode v) throws DecodeFailure {
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

    private static Integer int32(JsonNode v, At at) throws DecodeFailure {
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

    private static String string(JsonNode v, At at) throws DecodeFailure {
        if (v.isNull()) {
            return null;
        }
        if (!v.isTextual()) {
            throw typeError(v, at, "string");
        }
        return v.textValue();
    }

    private static List<JsonNode> array(JsonNode v, At at, String goType) throws DecodeFailure {
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
    private static boolean object(JsonNode v, At at, String goType) throws DecodeFailure {
        if (v.isNull()) {
            return false;
        }
        if (!v.isObject()) {
            throw typeError(v, at, goType);
        }
        return true;
    }

    private static Iterable<Map.Entry<String, JsonNode>> fields(JsonNode node) {
        return node::fields;
    }

    private void unknown(At at) {
        strictErrors.add(keyEntryField(at.indexed()).map(entry -> "unknown field in " + GoText.quote(entry) + NOT_SHOWN)
                .or(() -> secretSized(at.indexed()).map(parent -> "unknown field in " + GoText.quote(parent)
                        + LONG_NOT_SHOWN))
                .orElseGet(() -> "unknown field " + GoText.quote(at.indexed())));
    }

    // The shortest AES or secretbox secret is 16 bytes, 24 characters of base64: no field name is that long.
    private static final int SECRET_SIZED = 24;
    private static final String LONG_NOT_SHOWN = " (its name is not shown: a name that long may be a secret pasted in "
            + "the wrong place)";

    /** The parent path of a field whose name is long enough to be a pasted secret. */
    private static Optional<String> secretSized(String path) {
        int dot = path.lastIndexOf('.');
        String name = path.substring(dot + 1);
        return name.length() >= SECRET_SIZED ? Optional.of(dot < 0 ? "" : path.substring(0, dot)) : Optional.empty();
    }

    // A secret pasted as a mapping key would otherwise be echoed whole, as kube-apiserver does.
    private static final String NOT_SHOWN = " (a key entry holds only name and secret; the field's name is not shown, "
            + "as it may be a secret)";
    private static final Pattern KEY_ENTRY = Pattern.compile("^(.*\\.keys\\[\\d+\\])\\.(.*)$",
            Pattern.DOTALL);

    /** The key entry ({@code resources[0].providers[0].aescbc.keys[0]}) a field path lies inside, other than its own fields. */
    private static Optional<String> keyEntryField(String path) {
        Matcher m = KEY_ENTRY.matcher(path);
        if (!m.matches() || m.group(2).equals("name") || m.group(2).equals("secret")) {
            return Optional.empty();
        }
        return Optional.of(m.group(1));
    }

    // Go's UnmarshalTypeError; the offending value itself is never printed (it may be a secret).
    private static DecodeFailure typeError(JsonNode v, At at, String goType) {
        String where = at.struct().isEmpty() ? "Go value" : "Go struct field " + at.struct() + "." + at.dotted();
        return new DecodeFailure("json: cannot unmarshal " + jsonKind(v) + " into " + where + " of type " + goType);
    }

    private static String jsonKind(JsonNode v) {
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

    private static String orEmpty(String s) {
        return s == null ? "" : s;
    }
}
