package dev.secretsencrypt.store;

import dev.secretsencrypt.rotation.RetiredKey;
import dev.secretsencrypt.failure.StateUnavailable;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.config.InvalidConfig;
import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.ProviderType;
import dev.secretsencrypt.config.KeyRef;
import dev.secretsencrypt.rotation.RotationState;
import dev.secretsencrypt.rotation.Stage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** The snapshot as JSON bytes (before wrapping): the config travels as its canonical file text. */
final class SnapshotCodec {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .setSerializationInclusion(JsonInclude.Include.NON_NULL);

    record Stored(int format, String stage, String preparedType, String preparedName, String config,
                  List<StoredRetiredKey> retiredKeys) {
    }

    record StoredRetiredKey(String type, String name, String secret, String retiredAt) {
    }

    private SnapshotCodec() {
    }

    static byte[] encode(Snapshot s) {
        RotationState r = s.rotation();
        Stored stored = new Stored(1, r.stage().text(), r.prepared().map(k -> k.type().field()).orElse(null),
                r.prepared().map(KeyRef::name).orElse(null),
                new String(ConfigFiles.canonicalBytes(r.config()), StandardCharsets.UTF_8),
                s.retiredKeys().stream().map(k -> new StoredRetiredKey(k.type().field(), k.key().name(),
                        k.key().secret(), k.retiredAt().toString())).toList());
        try {
            return JSON.writeValueAsBytes(stored);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Snapshot decode(byte[] bytes, long revision, String where) {
        try {
            Stored s = JSON.readValue(bytes, Stored.class);
            Stage stage = Stage.parse(s.stage()).orElseThrow(() -> damaged(where, "unknown stage"));
            Optional<KeyRef> prepared = Optional.ofNullable(s.preparedName())
                    .map(name -> new KeyRef(type(s.preparedType(), where), name));
            RotationState rotation = new RotationState(stage,
                    ConfigFiles.parse(s.config().getBytes(StandardCharsets.UTF_8), where), prepared);
            List<RetiredKey> retired = s.retiredKeys() == null ? List.of() : s.retiredKeys().stream()
                    .map(k -> new RetiredKey(type(k.type(), where), new Key(k.name(), k.secret()),
                            Instant.parse(k.retiredAt()))).toList();
            return new Snapshot(revision, rotation, retired);
        } catch (IOException | InvalidConfig e) {
            // never the exception text: it could quote stored bytes
            throw damaged(where, e.getClass().getSimpleName());
        }
    }

    private static ProviderType type(String field, String where) {
        return ProviderType.byField(field).orElseThrow(() -> damaged(where, "unknown provider type"));
    }

    private static StateUnavailable damaged(String where, String detail) {
        return new StateUnavailable("the rotation state in " + where + " is damaged (" + detail + "): restore it "
                + "from an etcd backup");
    }
}
