package dev.secretsencrypt.rotation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.config.ConfigHash;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class ServerHashesTest {
    static NodeReport r(String node, Stage stage, String file) {
        return new NodeReport(node, stage, h(file));
    }

    /** The hash of a file with this content. */
    static ConfigHash h(String file) {
        return ConfigHash.ofFile(file.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void allMatchOnlyWhenEveryServerReportsTheClustersCurrentStageAndHash() {
        ServerHashes h = ServerHashes.of(Stage.PREPARE, h("abc"), List.of(r("n1", Stage.PREPARE, "abc"),
                r("n2", Stage.PREPARE, "abc")));
        assertTrue(h.allMatch());
        assertEquals(Optional.empty(), h.mismatch());
    }

    @Test
    void twoServersThatDisagreeAreNamedAsK3sNamesThem() {
        ServerHashes h = ServerHashes.of(Stage.PREPARE, h("abc"), List.of(r("node-1", Stage.PREPARE, "abc"),
                r("node-2", Stage.START, "old")));
        assertEquals(Optional.of("hash does not match between node-1 and node-2"), h.mismatch());
    }

    @Test
    void serversThatAgreeButAreBehindAreComparedWithTheCluster() {
        ServerHashes h = ServerHashes.of(Stage.ROTATE, h("new"), List.of(r("node-1", Stage.PREPARE, "abc"),
                r("node-2", Stage.PREPARE, "abc")));
        assertEquals(Optional.of("hash does not match between cluster and node-1"), h.mismatch());
    }

    @Test
    void reportsRoundTripThroughTheirStoredForm() {
        NodeReport r = r("n", Stage.REENCRYPT_FINISHED, "0f");
        assertEquals("reencrypt_finished-" + h("0f").hex(), r.value());
        assertEquals(r, NodeReport.parse("n", r.value()));
        for (String damaged : List.of("garbage", "rotate-", "rotate-abc", "rotate-" + h("0f").label(), "-" + h("0f").hex())) {
            assertFalse(NodeReport.parse("n", damaged).readable(), damaged);
        }
    }

    @Test
    void aReportThatDoesNotParseIsNamedAndNeverCountsAsLoaded() {
        NodeReport damaged = NodeReport.parse("node-2", "futurestage-abc");
        assertFalse(damaged.loaded(Stage.PREPARE, h("abc"), ReportMatch.CONFIG));
        ServerHashes h = ServerHashes.of(Stage.PREPARE, h("abc"), List.of(r("node-1", Stage.PREPARE, "abc"), damaged));
        assertFalse(h.allMatch());
        assertTrue(h.mismatch().orElseThrow().contains("the report of node-2 does not parse"), h.mismatch().toString());
    }

    @Test
    void whileReencryptingAServerOnTheCurrentFileMatchesWhateverStageItSyncedAt() {
        ServerHashes h = ServerHashes.of(Stage.REENCRYPT_ACTIVE, h("abc"), List.of(r("node-1", Stage.ROTATE, "abc"),
                r("node-2", Stage.REENCRYPT_ACTIVE, "abc")));
        assertTrue(h.allMatch(), h.mismatch().toString());
        ServerHashes behind = ServerHashes.of(Stage.REENCRYPT_ACTIVE, h("abc"), List.of(r("node-1", Stage.ROTATE, "old")));
        assertTrue(behind.behind(behind.reports().get(0)));
        assertEquals(Optional.of("hash does not match between cluster and node-1"), behind.mismatch());
    }
}
