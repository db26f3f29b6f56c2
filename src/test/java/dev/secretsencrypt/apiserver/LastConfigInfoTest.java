package dev.secretsencrypt.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.config.ConfigHash;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class LastConfigInfoTest {
    static final String HEX = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; // sha256("abc")
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
        assertEquals(Optional.of(new LastConfigInfo(ID, new ConfigHash(HEX))), LastConfigInfo.single(page));
    }

    @Test
    void aBareHexLabelInAnyLabelOrderIsReadToo() {
        String line = LastConfigInfo.METRIC + "{hash=\"" + HEX + "\",apiserver_id_hash=\"" + ID + "\"} 1";
        assertEquals(List.of(new LastConfigInfo(ID, new ConfigHash(HEX))), LastConfigInfo.parse(line));
    }

    @Test
    void aServerThatExportsNoSampleHasNone() {
        assertTrue(LastConfigInfo.parse("apiserver_request_total{code=\"200\"} 5\n").isEmpty());
        assertTrue(LastConfigInfo.single("").isEmpty());
    }

    @Test
    void kubeApiserver1372NamesTheLastConfigItLoadedNotTheBrokenFileThatFollowed() throws Exception {
        String page = java.nio.file.Files.readString(java.nio.file.Path.of("testdata", "apiserver-metrics",
                "kube-apiserver-v1.37.2-after-a-failed-reload.txt"));
        assertEquals(Optional.of(new LastConfigInfo(
                "sha256:73095bbbe8f317654631b5a70d7c53951e472e19c3daa5b71a50958a5e82991b",
                new ConfigHash("fda5f3c70041a3872ffd4c6e8e86dc9f37e95e25df2bda6795975be0bb399a9c"))), LastConfigInfo.single(page));
    }
}
