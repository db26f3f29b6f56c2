package dev.secretsencrypt.reencrypt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class CheckpointTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void survivesAJsonRoundTripAsStoredInEtcd() throws Exception {
        Checkpoint checkpoint = new Checkpoint(Map.of("/registry/secrets/", "/registry/secrets/ns/b",
                "/registry/configmaps/", Checkpoint.FINISHED), 100, 40, 30, 8, 2,
                List.of("/registry/secrets/ns/a", "/registry/configmaps/x"));

        String json = JSON.writeValueAsString(checkpoint);

        assertEquals(checkpoint, JSON.readValue(json, Checkpoint.class));
        assertEquals("{\"lastKeyDone\":{\"/registry/configmaps/\":\"\","
                + "\"/registry/secrets/\":\"/registry/secrets/ns/b\"},"
                + "\"total\":100,\"done\":40,\"rewritten\":30,\"unchanged\":8,\"failed\":2,"
                + "\"unreadable\":[\"/registry/secrets/ns/a\",\"/registry/configmaps/x\"]}", json);
    }

    @Test
    void startIsEmptyAndFinishedIsPerPrefix() throws Exception {
        Checkpoint start = Checkpoint.start();
        assertEquals(start, JSON.readValue("{}", Checkpoint.class));
        assertFalse(start.finished("/registry/secrets/"));
        Checkpoint half = new Checkpoint(Map.of("/registry/secrets/", ""), 0, 0, 0, 0, 0, null);
        assertTrue(half.finished("/registry/secrets/"));
        assertFalse(half.finished("/registry/configmaps/"));
    }

    @Test
    void keepsOnlyTheFirstThousandUnreadableKeys() {
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 1500; i++) {
            many.add("/registry/secrets/ns/" + i);
        }
        Checkpoint checkpoint = new Checkpoint(Map.of(), 0, 0, 0, 0, 1500, many);
        assertEquals(1000, checkpoint.unreadable().size());
        assertEquals("/registry/secrets/ns/0", checkpoint.unreadable().get(0));
    }
}
