package dev.secretsencrypt.certs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.util.Arrays;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A v1 Secret as kube-apiserver stores it (after decryption): {@code k8s\0} + protobuf runtime.Unknown around the
 * Secret, or JSON. Read with protobuf's wire reader by field number, as generated.proto numbers them, so no generated
 * Kubernetes classes are needed. Only what the certificate report uses is kept.
 */
public record StoredSecret(String namespace, String name, String type, Map<String, byte[]> data) {
    static final byte[] PROTOBUF_MAGIC = {'k', '8', 's', 0};
    // runtime.Unknown: typeMeta=1 {apiVersion=1, kind=2}, raw=2
    private static final int UNKNOWN_TYPE_META = 1;
    private static final int UNKNOWN_RAW = 2;
    private static final int TYPE_META_KIND = 2;
    // v1.Secret: metadata=1 {name=1, namespace=3}, data=2 (map entries {key=1, value=2}), type=3
    private static final int SECRET_METADATA = 1;
    private static final int SECRET_DATA = 2;
    private static final int SECRET_TYPE = 3;
    private static final int META_NAME = 1;
    private static final int META_NAMESPACE = 3;
    private static final ObjectMapper JSON = new ObjectMapper();

    public StoredSecret {
        data = Map.copyOf(data);
    }

    /** The stored value is not a v1 Secret in either form kube-apiserver writes; the message names no bytes. */
    public static final class NotASecret extends Exception {
        NotASecret(String message) {
            super(message, null, false, false);
        }
    }

    public static StoredSecret decode(byte[] plaintext) throws NotASecret {
        if (startsWith(plaintext, PROTOBUF_MAGIC)) {
            return fromProtobuf(Arrays.copyOfRange(plaintext, PROTOBUF_MAGIC.length, plaintext.length));
        }
        int first = 0;
        while (first < plaintext.length && Character.isWhitespace(plaintext[first])) {
            first++;
        }
        if (first < plaintext.length && plaintext[first] == '{') {
            return fromJson(plaintext);
        }
        throw new NotASecret("neither protobuf (k8s\\0) nor JSON");
    }

    private static StoredSecret fromProtobuf(byte[] unknown) throws NotASecret {
        try {
            CodedInputStream in = CodedInputStream.newInstance(unknown);
            byte[] raw = null;
            String kind = "";
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case UNKNOWN_TYPE_META -> kind = kindOf(in.readByteArray());
                    case UNKNOWN_RAW -> raw = in.readByteArray();
                    default -> in.skipField(tag);
                }
            }
            if (!kind.isEmpty() && !kind.equals("Secret")) {
                throw new NotASecret("its kind is " + kind + ", not Secret");
            }
            if (raw == null) {
                throw new NotASecret("the protobuf envelope holds no object");
            }
            return secret(CodedInputStream.newInstance(raw));
        } catch (IOException malformed) {
            throw new NotASecret("malformed protobuf (" + malformed.getClass().getSimpleName() + ")");
        }
    }

    private static String kindOf(byte[] typeMeta) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(typeMeta);
        String kind = "";
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            if (WireFormat.getTagFieldNumber(tag) == TYPE_META_KIND) {
                kind = in.readStringRequireUtf8();
            } else {
                in.skipField(tag);
            }
        }
        return kind;
    }

    private static StoredSecret secret(CodedInputStream in) throws IOException {
        String namespace = "";
        String name = "";
        String type = "";
        Map<String, byte[]> data = new LinkedHashMap<>();
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (WireFormat.getTagFieldNumber(tag)) {
                case SECRET_METADATA -> {
                    CodedInputStream meta = CodedInputStream.newInstance(in.readByteArray());
                    for (int t = meta.readTag(); t != 0; t = meta.readTag()) {
                        switch (WireFormat.getTagFieldNumber(t)) {
                            case META_NAME -> name = meta.readStringRequireUtf8();
                            case META_NAMESPACE -> namespace = meta.readStringRequireUtf8();
                            default -> meta.skipField(t);
                        }
                    }
                }
                case SECRET_DATA -> {
                    CodedInputStream entry = CodedInputStream.newInstance(in.readByteArray());
                    String key = "";
                    byte[] value = new byte[0];
                    for (int t = entry.readTag(); t != 0; t = entry.readTag()) {
                        switch (WireFormat.getTagFieldNumber(t)) {
                            case 1 -> key = entry.readStringRequireUtf8();
                            case 2 -> value = entry.readByteArray();
                            default -> entry.skipField(t);
                        }
                    }
                    data.put(key, value);
                }
                case SECRET_TYPE -> type = in.readStringRequireUtf8();
                default -> in.skipField(tag);
            }
        }
        return new StoredSecret(namespace, name, type, data);
    }

    private static StoredSecret fromJson(byte[] json) throws NotASecret {
        JsonNode root;
        try {
            root = JSON.readTree(json);
        } catch (IOException malformed) {
            throw new NotASecret("malformed JSON");
        }
        if (root == null || !root.isObject()) {
            throw new NotASecret("malformed JSON");
        }
        String kind = root.path("kind").asText("");
        if (!kind.isEmpty() && !kind.equals("Secret")) {
            throw new NotASecret("its kind is " + kind + ", not Secret");
        }
        Map<String, byte[]> data = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.path("data").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            try {
                data.put(e.getKey(), Base64.getDecoder().decode(e.getValue().asText("")));
            } catch (IllegalArgumentException notBase64) {
                throw new NotASecret("data key " + e.getKey() + " is not base64");
            }
        }
        JsonNode meta = root.path("metadata");
        return new StoredSecret(meta.path("namespace").asText(""), meta.path("name").asText(""),
                root.path("type").asText(""), data);
    }

    private static boolean startsWith(byte[] bytes, byte[] prefix) {
        return bytes.length >= prefix.length && Arrays.equals(bytes, 0, prefix.length, prefix, 0, prefix.length);
    }

    @Override
    public String toString() {
        return "StoredSecret[" + namespace + "/" + name + ", type " + type + ", keys " + data.keySet() + "]";
    }

    /** kubernetes.io/tls, or Opaque and others: used only in the report's advice. */
    public boolean isTls() {
        return "kubernetes.io/tls".equals(type);
    }
}
