package dev.secretsencrypt.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class LoadedConfigHashTest {
    // sha256("abc"), FIPS 180-2 appendix B.1: the file bytes "abc".
    static final byte[] FILE = "abc".getBytes(StandardCharsets.US_ASCII);
    static final String HEX = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

    @Test
    void aFileIsReportedAsSha256ColonHexOfItsBytesTheWayKubeApiserver137PrintsIt() {
        assertEquals("sha256:" + HEX, LoadedConfigHash.ofFile(FILE).label());
    }

    @Test
    void bothTheBareAndThePrefixedFormMatchTheSameFile() {
        LoadedConfigHash file = LoadedConfigHash.ofFile(FILE);
        assertEquals(Optional.of(file), LoadedConfigHash.fromLabel("sha256:" + HEX));
        assertEquals(Optional.of(file), LoadedConfigHash.fromLabel(HEX));
        assertEquals(Optional.of(file), LoadedConfigHash.fromLabel(HEX.toUpperCase()));
    }

    @Test
    void anythingElseIsNotAHash() {
        for (String label : List.of("", "sha256:", "sha1:" + HEX, "sha256:" + HEX.substring(1), HEX + "0", "k8s:enc:unstable:1:" + HEX)) {
            assertTrue(LoadedConfigHash.fromLabel(label).isEmpty(), label);
        }
    }

    @Test
    void aDifferentFileHasADifferentHash() {
        assertTrue(!LoadedConfigHash.ofFile("abd".getBytes(StandardCharsets.US_ASCII)).equals(LoadedConfigHash.ofFile(FILE)));
    }
}
