package dev.secretsencrypt.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class LastConfigInfoTest {
    static final String HEX = LoadedConfigHashTest.HEX;
    static final String ID = "sha256:" + "0f".repeat(32);

    @Test
    void readsTheSampleOutOfAMetricsPageNextToOtherMetrics() {
        String page = String.join("\n",
                "# HELP apiserver_encryption_config_controller_last_config_info [ALPHA] Information about the last applied encryption configuration with hash as label, split by apiserver identity.",
                "# TYPE apiserver_encryption_config_controller_last_config_info gauge",
                "apiserver_encryption_config_controller_last_config_info{apiserver_id_hash=\"" + ID + "\",hash=\"sha256:" + HEX + "\"} 1",
                "apiserver_encryption_config_controller_automatic_reloads_total{apiserver_id_hash=\"" + ID + "\",status=\"success\"} 2",
                "apiserver_authentication_config_controller_last_config_info{apiserver_id_hash=\"" + ID + "\",hash=\"sha256:" + "1".repeat(64) + "\"} 1",
                "");
        assertEquals(Optional.of(new LastConfigInfo(ID, new LoadedConfigHash(HEX))), LastConfigInfo.single(page));
    }

    @Test
    void aBareHexLabelInAnyLabelOrderIsReadToo() {
        String line = LastConfigInfo.METRIC + "{hash=\"" + HEX + "\",apiserver_id_hash=\"" + ID + "\"} 1";
        assertEquals(List.of(new LastConfigInfo(ID, new LoadedConfigHash(HEX))), LastConfigInfo.parse(line));
    }

    @Test
    void aServerThatExportsNoSampleHasNone() {
        assertTrue(LastConfigInfo.parse("apiserver_request_total{code=\"200\"} 5\n").isEmpty());
        assertTrue(LastConfigInfo.single("").isEmpty());
    }
}
