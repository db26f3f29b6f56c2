package dev.secretsencrypt.node;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.secretsencrypt.reencrypt.Checkpoint;
import dev.secretsencrypt.rotation.Stage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;

/**
 * The last re-encryption, as stored beside the rotation state: where it started, whether it removes keys, how far it
 * got (the checkpoint a resumed run continues from) and how it ended. No key material, only etcd key names and counts.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record RunRecord(String status, String from, boolean skip, String node, String startedAt, String message,
                        Checkpoint checkpoint, String configHash) {
    public static final String REQUESTED = "requested";
    public static final String RUNNING = "running";
    public static final String FAILED = "failed";
    public static final String FINISHED = "finished";

    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    public Stage fromStage() {
        return Stage.parse(from).orElse(Stage.ROTATE);
    }

    RunRecord with(String nextStatus, Checkpoint next, String nextMessage) {
        return new RunRecord(nextStatus, from, skip, node, startedAt, nextMessage, next, configHash);
    }

    RunRecord withSkip(boolean nextSkip) {
        return new RunRecord(status, from, nextSkip, node, startedAt, message, checkpoint, configHash);
    }

    RunRecord byNode(String nextNode) {
        return new RunRecord(status, from, skip, nextNode, startedAt, message, checkpoint, configHash);
    }

    /** Only a requested or interrupted run of this very config is continued; anything else starts afresh, which is safe. */
    boolean resumes(String currentConfigHash) {
        return (REQUESTED.equals(status) || RUNNING.equals(status)) && currentConfigHash.equals(configHash);
    }

    byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Optional<RunRecord> fromJson(Optional<byte[]> json) {
        return json.map(bytes -> {
            try {
                return JSON.readValue(bytes, RunRecord.class);
            } catch (IOException e) {
                // a damaged record only loses the checkpoint: the next run starts over, which is safe
                return null;
            }
        });
    }
}
