package dev.secretsencrypt.reencrypt;

import io.etcd.jetcd.ByteSequence;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;

/** etcd key arithmetic: the end of a prefix range and the first key after a given one. */
final class KeyRange {
    private KeyRange() {
    }

    /** The smallest key greater than every key starting with {@code prefix}, as etcd's clientv3.GetPrefixRangeEnd. */
    static ByteSequence endOf(String prefix) {
        byte[] end = prefix.getBytes(StandardCharsets.UTF_8);
        for (int i = end.length - 1; i >= 0; i--) {
            if (end[i] != (byte) 0xff) {
                end[i]++;
                return ByteSequence.from(Arrays.copyOf(end, i + 1));
            }
        }
        return ByteSequence.from(new byte[] {0});
    }

    /** The first key strictly after {@code key}: a range read from here never returns {@code key} itself. */
    static ByteSequence after(String key) {
        return after(ByteSequence.from(key, StandardCharsets.UTF_8));
    }

    static ByteSequence after(ByteSequence key) {
        byte[] bytes = key.getBytes();
        return ByteSequence.from(Arrays.copyOf(bytes, bytes.length + 1));
    }

    /**
     * The key as checkpoint text, when the text turns back into exactly these bytes. Kubernetes keys are ASCII;
     * a key that is not valid UTF-8 is never claimed done, so a resume redoes a little instead of skipping.
     */
    static Optional<String> asText(ByteSequence key) {
        try {
            return Optional.of(StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(key.getBytes())).toString());
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }
}
