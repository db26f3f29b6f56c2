package dev.secretsencrypt.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class ConfigHashTest {
    // sha256("abc"), FIPS 180-2 appendix B.1: the file bytes "abc".
    static final byte[] FILE = "abc".getBytes(StandardCharsets.US_ASCII);
    static final String HEX = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    @Test
    void aFileIsReportedAsSha256ColonHexOfItsBytesTheWayKubeApiserver137PrintsIt() {
        assertEquals("sha256:" + HEX, ConfigHash.ofFile(FILE).label());
    }

    @Test
    void bothTheBareAndThePrefixedFormMatchTheSameFile() {
        ConfigHash file = ConfigHash.ofFile(FILE);
        assertEquals(Optional.of(file), ConfigHash.fromLabel("sha256:" + HEX));
        assertEquals(Optional.of(file), ConfigHash.fromLabel(HEX));
        assertEquals(Optional.of(file), ConfigHash.fromLabel(HEX.toUpperCase()));
    }

    @Test
    void anythingElseIsNotAHash() {
        for (String label : List.of("", "sha256:", "sha1:" + HEX, "sha256:" + HEX.substring(1), HEX + "0", "k8s:enc:unstable:1:" + HEX)) {
            assertTrue(ConfigHash.fromLabel(label).isEmpty(), label);
        }
    }

    @Test
    void reportsAndRecordsCarryOnlyTheBareLowercaseHex() {
        assertEquals(Optional.of(ConfigHash.ofFile(FILE)), ConfigHash.fromHex(HEX));
        for (String text : List.of("sha256:" + HEX, HEX.toUpperCase(), "0f", "")) {
            assertTrue(ConfigHash.fromHex(text).isEmpty(), text);
        }
        assertEquals(HEX, ConfigHash.ofFile(FILE).toString());
        assertEquals("ba7816bf8f01", ConfigHash.ofFile(FILE).shortForm());
    }

    @Test
    void aDifferentFileHasADifferentHash() {
        assertTrue(!ConfigHash.ofFile("abd".getBytes(StandardCharsets.US_ASCII)).equals(ConfigHash.ofFile(FILE)));
    }
}
