package dev.secretsencrypt.config;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * The one byte form this tool writes, so the same config always hashes the same: fixed field order
 * ({@code kind, apiVersion, resources}; {@code resources, providers}; {@code name, secret}; KMS
 * {@code apiVersion, name, endpoint, cachesize, timeout} with absent fields omitted), two-space indent,
 * {@code "key": value}, {@code {}} and {@code []} when empty, LF line ends and a final newline.
 */
final class CanonicalJson {
    private final StringBuilder out = new StringBuilder();

    private CanonicalJson() {
    }

    static byte[] of(EncryptionConfig c) {
        CanonicalJson json = new CanonicalJson();
        json.config(c);
        json.out.append('\n');
        return json.out.toString().getBytes(StandardCharsets.UTF_8);
    }

    private void config(EncryptionConfig c) {
        List<Runnable> fields = new ArrayList<>();
        fields.add(() -> field("kind", c.kind(), 1));
        fields.add(() -> field("apiVersion", c.apiVersion(), 1));
        fields.add(() -> {
            name("resources", 1);
            array(c.resources().size(), 1, i -> rule(c.resources().get(i), 2));
        });
        object(fields, 0);
    }

    private void rule(ResourceRule rule, int depth) {
        object(List.of(
                () -> {
                    name("resources", depth + 1);
                    array(rule.resources().size(), depth + 1, i -> string(rule.resources().get(i)));
                },
                () -> {
                    name("providers", depth + 1);
                    array(rule.providers().size(), depth + 1, i -> provider(rule.providers().get(i), depth + 2));
                }), depth);
    }

    private void provider(Provider p, int depth) {
        Runnable body;
        if (p instanceof KeyedProvider keyed) {
            body = () -> {
                name(keyed.type().field(), depth + 1);
                object(List.of(() -> {
                    name("keys", depth + 2);
                    array(keyed.keys().size(), depth + 2, i -> key(keyed.keys().get(i), depth + 3));
                }), depth + 1);
            };
        } else if (p instanceof KmsProvider kms) {
            body = () -> {
                name("kms", depth + 1);
                List<Runnable> fields = new ArrayList<>();
                if (kms.apiVersion() != null) {
                    fields.add(() -> field("apiVersion", kms.apiVersion(), depth + 2));
                }
                if (kms.name() != null) {
                    fields.add(() -> field("name", kms.name(), depth + 2));
                }
                if (kms.endpoint() != null) {
                    fields.add(() -> field("endpoint", kms.endpoint(), depth + 2));
                }
                if (kms.cachesize() != null) {
                    fields.add(() -> {
                        name("cachesize", depth + 2);
                        out.append(kms.cachesize().intValue());
                    });
                }
                if (kms.timeout() != null) {
                    fields.add(() -> field("timeout", kms.timeout(), depth + 2));
                }
                object(fields, depth + 1);
            };
        } else {
            body = () -> {
                name("identity", depth + 1);
                out.append("{}");
            };
        }
        object(List.of(body), depth);
    }

    private void key(Key key, int depth) {
        // Go's Key has no omitempty: both fields are always written.
        object(List.of(
                () -> field("name", key.name() == null ? "" : key.name(), depth + 1),
                () -> field("secret", key.secret() == null ? "" : key.secret(), depth + 1)), depth);
    }

    private void object(List<Runnable> fields, int depth) {
        if (fields.isEmpty()) {
            out.append("{}");
            return;
        }
        out.append("{\n");
        for (int i = 0; i < fields.size(); i++) {
            fields.get(i).run();
            out.append(i + 1 < fields.size() ? ",\n" : "\n");
        }
        indent(depth).append('}');
    }

    private interface Item {
        void write(int index);
    }

    private void array(int size, int depth, Item item) {
        if (size == 0) {
            out.append("[]");
            return;
        }
        out.append("[\n");
        for (int i = 0; i < size; i++) {
            indent(depth + 1);
            item.write(i);
            out.append(i + 1 < size ? ",\n" : "\n");
        }
        indent(depth).append(']');
    }

    private void field(String name, String value, int depth) {
        name(name, depth);
        string(value);
    }

    private void name(String name, int depth) {
        indent(depth);
        string(name);
        out.append(": ");
    }

    private void string(String value) {
        out.append('"').append(JsonStringEncoder.getInstance().quoteAsString(value == null ? "" : value)).append('"');
    }

    private StringBuilder indent(int depth) {
        return out.append("  ".repeat(depth));
    }
}
