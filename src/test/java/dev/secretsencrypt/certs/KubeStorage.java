package dev.secretsencrypt.certs;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A v1 Secret in the two forms kube-apiserver stores, built field by field as k8s.io/api/core/v1/generated.proto
 * numbers them (with the fields it writes that the report ignores: uid, resourceVersion, creationTimestamp,
 * immutable, and runtime.Unknown's contentEncoding/contentType), so the reader is tested on what etcd holds.
 */
public final class KubeStorage {
    private KubeStorage() {
    }

    public static byte[] protobuf(String namespace, String name, String type, Map<String, byte[]> data) {
        return protobuf("Secret", namespace, name, type, data);
    }

    /** Another kind in the same envelope (its fields read as a Secret's would be): the reader must refuse it. */
    public static byte[] protobuf(String kind, String namespace, String name, String type, Map<String, byte[]> data) {
        byte[] meta = message(o -> {
            o.writeString(1, name);
            o.writeString(3, namespace);
            o.writeString(4, "/api/v1/namespaces/" + namespace + "/secrets/" + name); // selfLink
            o.writeString(5, "6f0c8a2e-0000-4000-8000-" + String.format("%012d", Math.abs(name.hashCode())));
            o.writeString(6, "12345"); // resourceVersion
            o.writeByteArray(8, message(t -> { // creationTimestamp {seconds=1, nanos=2}
                t.writeInt64(1, 1_790_000_000L);
                t.writeInt32(2, 0);
            }));
        });
        byte[] secret = message(o -> {
            o.writeByteArray(1, meta);
            for (Map.Entry<String, byte[]> e : data.entrySet()) {
                o.writeByteArray(2, message(entry -> {
                    entry.writeString(1, e.getKey());
                    entry.writeByteArray(2, e.getValue());
                }));
            }
            o.writeString(3, type);
            o.writeBool(5, false); // immutable
        });
        byte[] typeMeta = message(o -> {
            o.writeString(1, "v1");
            o.writeString(2, kind);
        });
        byte[] unknown = message(o -> {
            o.writeByteArray(1, typeMeta);
            o.writeByteArray(2, secret);
            o.writeString(3, "");
            o.writeString(4, "");
        });
        byte[] out = new byte[4 + unknown.length];
        System.arraycopy("k8s\0".getBytes(StandardCharsets.ISO_8859_1), 0, out, 0, 4);
        System.arraycopy(unknown, 0, out, 4, unknown.length);
        return out;
    }

    /** As kube-apiserver writes JSON (--storage-media-type=application/json): compact, data base64, a newline. */
    public static byte[] json(String namespace, String name, String type, Map<String, byte[]> data) {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("kind", "Secret");
        root.put("apiVersion", "v1");
        root.put("metadata", Map.of("name", name, "namespace", namespace, "uid", "0d4c6a2e-1111-4000-8000-000000000001",
                "creationTimestamp", "2026-09-21T10:00:00Z"));
        Map<String, String> encoded = new LinkedHashMap<>();
        data.forEach((k, v) -> encoded.put(k, Base64.getEncoder().encodeToString(v)));
        root.put("data", encoded);
        root.put("type", type);
        try {
            return (new ObjectMapper().writeValueAsString(root) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Map<String, byte[]> data(String... keysAndValues) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (int i = 0; i < keysAndValues.length; i += 2) {
            out.put(keysAndValues[i], keysAndValues[i + 1].getBytes(StandardCharsets.UTF_8));
        }
        return out;
    }

    private interface Fields {
        void write(CodedOutputStream out) throws IOException;
    }

    private static byte[] message(Fields fields) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CodedOutputStream out = CodedOutputStream.newInstance(bytes);
        try {
            fields.write(out);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }
}
