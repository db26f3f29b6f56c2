package dev.secretsencrypt.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

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
        document.duplicateFields().forEach(f -> decoder.strictErrors.add(GoJson.keyEntryField(f)
                .map(entry -> "duplicate field in " + GoText.quote(entry) + GoJson.NOT_SHOWN)
                .or(() -> GoJson.secretSized(f).map(parent -> "duplicate field in " + GoText.quote(parent)
                        + GoJson.LONG_NOT_SHOWN))
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
                throw new DecodeFailure("couldn't get version/kind; json parse error: json: cannot unmarshal " + GoJson.jsonKind(root)
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
                throw new DecodeFailure("couldn't get version/kind; json parse error: json: cannot unmarshal " + GoJson.jsonKind(v)
                        + " into Go struct field ." + field + " of type string");
            }
            return v.textValue();
        }
    }

    private ConfigDraft config(JsonNode root, TypeMeta meta) throws DecodeFailure {
        List<ConfigDraft.Rule> rules = List.of();
        GoJson.At top = new GoJson.At("", "", "");
        for (Map.Entry<String, JsonNode> f : GoJson.fields(root)) {
            GoJson.At at = top.field("EncryptionConfiguration", f.getKey());
            switch (f.getKey()) {
                case "kind", "apiVersion" -> { }
                case "resources" -> {
                    List<ConfigDraft.Rule> decoded = new ArrayList<>();
                    List<JsonNode> items = GoJson.array(f.getValue(), at, "[]v1.ResourceConfiguration");
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

    private ConfigDraft.Rule rule(JsonNode node, GoJson.At at) throws DecodeFailure {
        GoJson.object(node, at, "v1.ResourceConfiguration");
        List<String> resources = List.of();
        List<ProviderElement> providers = List.of();
        for (Map.Entry<String, JsonNode> f : GoJson.fields(node)) {
            GoJson.At child = at.field("ResourceConfiguration", f.getKey());
            switch (f.getKey()) {
                case "resources" -> {
                    List<String> names = new ArrayList<>();
                    List<JsonNode> items = GoJson.array(f.getValue(), child, "[]string");
                    for (int i = 0; i < items.size(); i++) {
                        names.add(GoJson.orEmpty(GoJson.string(items.get(i), child.index(i))));
                    }
                    resources = names;
                }
                case "providers" -> {
                    List<ProviderElement> elements = new ArrayList<>();
                    List<JsonNode> items = GoJson.array(f.getValue(), child, "[]v1.ProviderConfiguration");
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

    private ProviderElement element(JsonNode node, GoJson.At at) throws DecodeFailure {
        GoJson.object(node, at, "v1.ProviderConfiguration");
        List<Provider> declared = new ArrayList<>();
        for (Map.Entry<String, JsonNode> f : GoJson.fields(node)) {
            GoJson.At child = at.field("ProviderConfiguration", f.getKey());
            JsonNode v = f.getValue();
            switch (f.getKey()) {
                case "aescbc" -> keyed(v, child, ProviderType.AESCBC, "v1.AESConfiguration", "AESConfiguration", declared);
                case "aesgcm" -> keyed(v, child, ProviderType.AESGCM, "v1.AESConfiguration", "AESConfiguration", declared);
                case "secretbox" -> keyed(v, child, ProviderType.SECRETBOX, "v1.SecretboxConfiguration", "SecretboxConfiguration", declared);
                case "identity" -> {
                    // identity must be {} exactly: any field in it is unknown; null means "not set", as in Go.
                    if (GoJson.object(v, child, "v1.IdentityConfiguration")) {
                        GoJson.fields(v).forEach(e -> unknown(child.field("IdentityConfiguration", e.getKey())));
                        declared.add(new IdentityProvider());
                    }
                }
                case "kms" -> {
                    if (GoJson.object(v, child, "v1.KMSConfiguration")) {
                        declared.add(kms(v, child));
                    }
                }
                default -> unknown(child);
            }
        }
        return new ProviderElement(declared);
    }

    private void keyed(JsonNode node, GoJson.At at, ProviderType type, String goType, String struct, List<Provider> declared) throws DecodeFailure {
        if (!GoJson.object(node, at, goType)) {
            return;
        }
        List<Key> keys = List.of();
        for (Map.Entry<String, JsonNode> f : GoJson.fields(node)) {
            GoJson.At child = at.field(struct, f.getKey());
            if (f.getKey().equals("keys")) {
                List<Key> decoded = new ArrayList<>();
                List<JsonNode> items = GoJson.array(f.getValue(), child, "[]v1.Key");
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

    private Key key(JsonNode node, GoJson.At at) throws DecodeFailure {
        GoJson.object(node, at, "v1.Key");
        String name = "";
        String secret = "";
        for (Map.Entry<String, JsonNode> f : GoJson.fields(node)) {
            GoJson.At child = at.field("Key", f.getKey());
            switch (f.getKey()) {
                case "name" -> name = GoJson.orEmpty(GoJson.string(f.getValue(), child));
                case "secret" -> secret = GoJson.orEmpty(GoJson.string(f.getValue(), child));
                default -> unknown(child);
            }
        }
        return new Key(name, secret);
    }

    private KmsProvider kms(JsonNode node, GoJson.At at) throws DecodeFailure {
        String apiVersion = null;
        String name = null;
        String endpoint = null;
        Integer cachesize = null;
        String timeout = null;
        for (Map.Entry<String, JsonNode> f : GoJson.fields(node)) {
            GoJson.At child = at.field("KMSConfiguration", f.getKey());
            JsonNode v = f.getValue();
            switch (f.getKey()) {
                case "apiVersion" -> apiVersion = GoJson.string(v, child);
                case "name" -> name = GoJson.string(v, child);
                case "endpoint" -> endpoint = GoJson.string(v, child);
                case "cachesize" -> cachesize = GoJson.int32(v, child);
                case "timeout" -> timeout = GoJson.duration(v);
                default -> unknown(child);
            }
        }
        return new KmsProvider(apiVersion, name, endpoint, cachesize, timeout);
    }

    private void unknown(GoJson.At at) {
        strictErrors.add(GoJson.keyEntryField(at.indexed()).map(entry -> "unknown field in " + GoText.quote(entry) + GoJson.NOT_SHOWN)
                .or(() -> GoJson.secretSized(at.indexed()).map(parent -> "unknown field in " + GoText.quote(parent)
                        + GoJson.LONG_NOT_SHOWN))
                .orElseGet(() -> "unknown field " + GoText.quote(at.indexed())));
    }

}
