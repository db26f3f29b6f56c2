package dev.secretsencrypt.usecase;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.secretsencrypt.config.ConfigHash;
import dev.secretsencrypt.reencrypt.Checkpoint;
import dev.secretsencrypt.rotation.Stage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * The last re-encryption, as stored beside the rotation state: where it started, whether it removes keys, how far it
 * got (the checkpoint a resumed run continues from) and how it ended. No key material, only etcd key names and counts.
 */
public record RunRecord(Status status, Stage from, boolean skip, String node, Instant startedAt, String message,
                        Checkpoint checkpoint, Optional<ConfigHash> configHash) {
    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** How a run stands; stored lowercase ({@code running}), as older versions wrote it. */
    public enum Status {
        REQUESTED, RUNNING, STOPPED, FAILED, FINISHED;

        public String text() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Optional<Status> parse(String text) {
            return Arrays.stream(values()).filter(s -> s.text().equals(text)).findFirst();
        }
    }

    /** The stored form: plain text fields, so a record from another version is read or refused, never misread. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    private record Stored(String status, String from, boolean skip, String node, String startedAt, String message,
                          Checkpoint checkpoint, String configHash) {
    }

    public Stage fromStage() {
        return from;
    }

    public boolean failed() {
        return status == Status.FAILED;
    }

    RunRecord with(Status nextStatus, Checkpoint next, String nextMessage) {
        return new RunRecord(nextStatus, from, skip, node, startedAt, nextMessage, next, configHash);
    }

    RunRecord withSkip(boolean nextSkip) {
        return new RunRecord(status, from, nextSkip, node, startedAt, message, checkpoint, configHash);
    }

    RunRecord byNode(String nextNode) {
        return new RunRecord(status, from, skip, nextNode, startedAt, message, checkpoint, configHash);
    }

    /** Only a requested or interrupted run of this very config is continued; anything else starts afresh, which is safe. */
    boolean resumes(ConfigHash current) {
        return (status == Status.REQUESTED || status == Status.RUNNING || status == Status.STOPPED)
                && configHash.equals(Optional.of(current));
    }

    /** A failed run of this very config: status shows it until the next run replaces it. */
    boolean failedOn(ConfigHash current) {
        return failed() && configHash.equals(Optional.of(current));
    }

    byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(new Stored(status.text(), from.text(), skip, node, startedAt.toString(),
                    message, checkpoint, configHash.map(ConfigHash::hex).orElse(null)));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Empty when there is none, or when it is damaged or names a status or stage this version does not know. */
    static Optional<RunRecord> fromJson(Optional<byte[]> json) {
        return json.flatMap(bytes -> {
            Stored s;
            try {
                s = JSON.readValue(bytes, Stored.class);
            } catch (IOException e) {
                // a damaged record only loses the checkpoint: the next run starts over, which is safe
                return Optional.empty();
            }
            Optional<Status> status = Status.parse(s.status());
            Optional<Stage> from = Optional.ofNullable(s.from()).flatMap(Stage::parse);
            Optional<Instant> startedAt = instant(s.startedAt());
            if (status.isEmpty() || from.isEmpty() || startedAt.isEmpty() || s.checkpoint() == null) {
                return Optional.empty();
            }
            // a record without a valid config hash never resumes: the next run starts over
            return Optional.of(new RunRecord(status.get(), from.get(), s.skip(), s.node(), startedAt.get(), s.message(),
                    s.checkpoint(), Optional.ofNullable(s.configHash()).flatMap(ConfigHash::fromHex)));
        });
    }

    private static Optional<Instant> instant(String text) {
        try {
            return Optional.of(Instant.parse(text));
        } catch (RuntimeException notAnInstant) {
            return Optional.empty();
        }
    }
}
