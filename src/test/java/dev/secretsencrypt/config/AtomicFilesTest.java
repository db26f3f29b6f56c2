package dev.secretsencrypt.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("unit")
class AtomicFilesTest {
    @TempDir
    Path tmp;

    private static EncryptionConfig valid() {
        return EncryptionConfig.of(List.of(new ResourceRule(List.of("secrets"), List.of(
                new KeyedProvider(ProviderType.AESCBC, List.of(Key.generate("aescbckey", new byte[32]))),
                new IdentityProvider()))));
    }

    @Test
    void writtenConfigIsOwnerOnlyInANewOwnerOnlyDirectory() throws IOException, InvalidConfig {
        Path file = tmp.resolve("data/nested/encryption-config.json");
        ConfigFiles.write(file, valid());
        assertEquals("rw-------", mode(file));
        assertEquals("rwx------", mode(tmp.resolve("data")));
        assertEquals("rwx------", mode(tmp.resolve("data/nested")));
        assertArrayEquals(ConfigFiles.canonicalBytes(valid()), Files.readAllBytes(file));
        assertEquals(valid(), ConfigFiles.read(file));
        assertEquals(List.of(file.getFileName()), names(file.getParent()));
    }

    @Test
    void replacingAWorldReadableFileLeavesItOwnerOnlyAndTheDirectoryUntouched() throws IOException {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path file = tmp.resolve("config.json");
        Files.writeString(file, "old");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        AtomicFiles.write(file, "new".getBytes(StandardCharsets.UTF_8));
        assertEquals("new", Files.readString(file));
        assertEquals("rw-------", mode(file));
        assertEquals("rwxr-xr-x", mode(tmp));
        assertEquals(List.of(file.getFileName()), names(tmp));
    }

    @Test
    void anInvalidConfigIsRefusedAndTheExistingFileIsLeftByteIdentical() throws IOException {
        Path file = tmp.resolve("encryption-config.json");
        byte[] before = "{\"existing\": true}\n".getBytes(StandardCharsets.UTF_8);
        Files.write(file, before);
        EncryptionConfig nineByteKey = EncryptionConfig.of(List.of(new ResourceRule(List.of("secrets"), List.of(
                new KeyedProvider(ProviderType.AESCBC, List.of(Key.generate("short", new byte[9])))))));
        InvalidConfig e = assertThrows(InvalidConfig.class, () -> ConfigFiles.write(file, nineByteKey));
        assertTrue(e.getMessage().contains("resources[0].providers[0].aescbc.keys[0].secret: Invalid value: \"REDACTED\": "
                + "secret is not of the expected length, got 9, expected one of [16 24 32]"), e.getMessage());
        assertArrayEquals(before, Files.readAllBytes(file));
        assertEquals(List.of(file.getFileName()), names(tmp));
    }

    @Test
    void anInvalidConfigCreatesNothing() {
        Path file = tmp.resolve("absent/encryption-config.json");
        EncryptionConfig empty = EncryptionConfig.of(List.of());
        assertThrows(InvalidConfig.class, () -> ConfigFiles.write(file, empty));
        assertTrue(Files.notExists(tmp.resolve("absent")));
    }

    @Test
    void ensurePrivateDirCreatesOrTightensToOwnerOnly() throws IOException {
        Path created = tmp.resolve("a/b");
        AtomicFiles.ensurePrivateDir(created);
        assertEquals("rwx------", mode(created));
        assertEquals("rwx------", mode(tmp.resolve("a")));

        Path existing = Files.createDirectory(tmp.resolve("existing"));
        Files.setPosixFilePermissions(existing, PosixFilePermissions.fromString("rwxr-xr-x"));
        AtomicFiles.ensurePrivateDir(existing);
        assertEquals("rwx------", mode(existing));
    }

    @Test
    void aFailedWriteLeavesNoTemporaryFile() throws IOException {
        Path target = Files.createDirectory(tmp.resolve("target-is-a-directory"));
        Files.writeString(target.resolve("inside"), "x");
        assertThrows(IOException.class, () -> AtomicFiles.write(target, "x".getBytes(StandardCharsets.UTF_8)));
        assertEquals(List.of(target.getFileName()), names(tmp));
    }

    @Test
    void aFileWhereTheDirectoryShouldBeIsAnError() throws IOException {
        Files.writeString(tmp.resolve("plain"), "x");
        assertThrows(IOException.class, () -> AtomicFiles.write(tmp.resolve("plain/config.json"), new byte[0]));
        assertThrows(IOException.class, () -> AtomicFiles.ensurePrivateDir(tmp.resolve("plain")));
    }

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    private static List<Path> names(Path dir) throws IOException {
        try (Stream<Path> list = Files.list(dir)) {
            return list.map(Path::getFileName).sorted().toList();
        }
    }
}
