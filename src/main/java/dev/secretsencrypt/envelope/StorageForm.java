package dev.secretsencrypt.envelope;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Whether a plaintext is what kube-apiserver stores: its protobuf envelope ({@code k8s\0} magic), self-described CBOR
 * (KEP-4222), or a JSON or YAML
 * object with {@code apiVersion} and {@code kind} (--storage-media-type). aescbc is not authenticated: a value sealed
 * with another secret under the same key name "opens" to garbage with valid padding about once in 256 tries, and
 * rewriting that garbage would destroy the only copy. kube-apiserver fails to decode such a value; so do we.
 */
public final class StorageForm {
    private static final byte[] PROTOBUF_MAGIC = {'k', '8', 's', 0};
    // CBOR's self-described tag 55799, which kube-apiserver's CBOR serializer (KEP-4222) writes first
    private static final byte[] CBOR_SELF_DESCRIBED = {(byte) 0xd9, (byte) 0xd9, (byte) 0xf7};
    private static final JsonFactory JSON = new JsonFactory();
    private static final YAMLFactory YAML = new YAMLFactory();

    private StorageForm() {
    }

    public static boolean isStoredObject(byte[] plaintext) {
        if (Prefixes.startsWith(plaintext, PROTOBUF_MAGIC) || Prefixes.startsWith(plaintext, CBOR_SELF_DESCRIBED)) {
            return true; // a wrong key's first block is random: 3 or 4 magic bytes by chance, on top of valid padding
        }
        if (!isUtf8(plaintext)) {
            return false;
        }
        int first = firstNonSpace(plaintext);
        if (first < plaintext.length && plaintext[first] == '{') {
            return namesApiVersionAndKind(JSON, plaintext);
        }
        return namesApiVersionAndKind(YAML, plaintext);
    }

    /** A top-level mapping holding both {@code apiVersion} and {@code kind}, and nothing unparseable after it. */
    private static boolean namesApiVersionAndKind(JsonFactory factory, byte[] text) {
        try (JsonParser parser = factory.createParser(text)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                return false;
            }
            boolean apiVersion = false;
            boolean kind = false;
            for (JsonToken t = parser.nextToken(); t == JsonToken.FIELD_NAME; t = parser.nextToken()) {
                String name = parser.currentName();
                parser.nextToken();
                apiVersion |= "apiVersion".equals(name);
                kind |= "kind".equals(name);
                parser.skipChildren();
            }
            return apiVersion && kind && parser.nextToken() == null;
        } catch (IOException | RuntimeException notAnObject) {
            return false;
        }
    }

    private static boolean isUtf8(byte[] bytes) {
        try {
            StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
            return true;
        } catch (CharacterCodingException e) {
            return false;
        }
    }

    private static int firstNonSpace(byte[] bytes) {
        int i = 0;
        while (i < bytes.length && (bytes[i] == ' ' || bytes[i] == '\n' || bytes[i] == '\r' || bytes[i] == '\t')) {
            i++;
        }
        return i;
    }
}
