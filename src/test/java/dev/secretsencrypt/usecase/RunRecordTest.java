package dev.secretsencrypt.usecase;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.config.ConfigHash;
import dev.secretsencrypt.reencrypt.Checkpoint;
import dev.secretsencrypt.rotation.Stage;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The run record a resumed re-encryption continues from: what resumes, and what a damaged record becomes. */
@Tag("unit")
class RunRecordTest {
    static final ConfigHash CONFIG = new ConfigHash("c".repeat(64));
    static final RunRecord RUNNING = new RunRecord(RunRecord.Status.RUNNING, Stage.ROTATE, false, "node-1",
            Instant.parse("2026-12-03T10:00:00Z"), null, Checkpoint.start(), Optional.of(CONFIG));

    static Optional<RunRecord> read(String json) {
        return RunRecord.fromJson(Optional.of(json.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aRecordReadsBackAsItWasWritten() {
        assertEquals(Optional.of(RUNNING), RunRecord.fromJson(Optional.of(RUNNING.toJson())));
        String stored = new String(RUNNING.toJson(), StandardCharsets.UTF_8);
        assertTrue(stored.contains("\"startedAt\":\"2026-12-03T10:00:00Z\""), stored);
        assertTrue(stored.contains("\"configHash\":\"" + CONFIG.hex() + "\""), stored);
    }

    @Test
    void onlyAnUnfinishedRunOfThisVeryConfigResumes() {
        assertTrue(RUNNING.resumes(CONFIG));
        assertFalse(RUNNING.resumes(new ConfigHash("d".repeat(64))));
        assertFalse(RUNNING.with(RunRecord.Status.FINISHED, Checkpoint.start(), "done").resumes(CONFIG));
        String withoutHash = new String(RUNNING.toJson(), StandardCharsets.UTF_8)
                .replace("\"configHash\":\"" + CONFIG.hex() + "\"", "\"configHash\":\"not-a-hash\"");
        assertFalse(read(withoutHash).orElseThrow().resumes(CONFIG), "a record without a valid hash starts over");
    }

    @Test
    void aDamagedRecordIsNoneSoTheNextRunStartsOver() {
        String stored = new String(RUNNING.toJson(), StandardCharsets.UTF_8);
        assertEquals(Optional.empty(), read("{not json"));
        assertEquals(Optional.empty(), read(stored.replace("2026-12-03T10:00:00Z", "yesterday")));
        assertEquals(Optional.empty(), read(stored.replace("\"running\"", "\"paused\"")));
        assertEquals(Optional.empty(), RunRecord.fromJson(Optional.empty()));
    }
}
