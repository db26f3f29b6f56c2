package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.config.EncryptionConfig;
import dev.secretsencrypt.config.InvalidConfig;
import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.KeyedProvider;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Single-server mode through the command line: exit codes, printed text and the files kube-apiserver reads. */
class LocalRotationTest {
    @TempDir
    Path tmp;
    final Cli cli = new Cli();

    Path dataDir() {
        return tmp.resolve("data");
    }

    Path configFile() {
        return dataDir().resolve("encryption-config.json");
    }

    Cli.Result run(String... args) {
        String[] withDir = new String[args.length + 3];
        System.arraycopy(args, 0, withDir, 0, args.length);
        withDir[args.length] = "-d";
        withDir[args.length + 1] = dataDir().toString();
        withDir[args.length + 2] = "--node-name=server-1";
        return cli.run(withDir);
    }

    List<Key> keysInFile() throws Exception {
        EncryptionConfig c = ConfigFiles.read(configFile());
        return c.resources().get(0).providers().stream().filter(p -> p instanceof KeyedProvider)
                .flatMap(p -> ((KeyedProvider) p).keys().stream()).toList();
    }

    @AfterEach
    void noKeyMaterialWasEverPrinted() throws Exception {
        List<Key> keys;
        try {
            keys = keysInFile();
        } catch (NoSuchFileException | InvalidConfig e) {
            return; // nothing valid was written: no key could have been printed from it
        }
        for (Key k : keys) {
            for (String printed : cli.printed) {
                assertFalse(printed.contains(k.secret()), "a key secret was printed");
            }
        }
    }

    @Test
    void enableCreatesOneActiveAescbcKeyAndStatusShowsItExactly() throws Exception {
        Cli.Result enable = run("enable");
        assertEquals(0, enable.exitCode(), enable.err());
        Cli.Result status = run("status");
        assertEquals(0, status.exitCode());
        assertEquals("""
                Encryption Status: Enabled
                Current Rotation Stage: start
                Server Encryption Hashes: All hashes match

                Active  Key Type  Name
                ------  --------  ----
                 *      AES-CBC   aescbckey
                """, status.out());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(configFile())));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir())));
        assertEquals(32, keysInFile().get(0).secretBytes().length);
    }

    @Test
    void rotateBeforePrepareIsRefusedWithExitCode1AndChangesNoFile() throws Exception {
        run("enable");
        byte[] config = Files.readAllBytes(configFile());
        byte[] state = Files.readAllBytes(dataDir().resolve("encryption-state.json"));
        Cli.Result rotate = run("rotate");
        assertEquals(1, rotate.exitCode());
        assertTrue(rotate.err().startsWith("Error: rotate needs stage prepare"), rotate.err());
        assertTrue(rotate.err().contains("run prepare first"), rotate.err());
        assertArrayEquals(config, Files.readAllBytes(configFile()));
        assertArrayEquals(state, Files.readAllBytes(dataDir().resolve("encryption-state.json")));
    }

    @Test
    void prepareThenRotateMakesTheNewTimestampedKeyActiveAndKeepsTheOldOne() throws Exception {
        run("enable");
        assertEquals(0, run("prepare").exitCode());
        Cli.Result prepared = run("status");
        assertTrue(prepared.out().contains("Current Rotation Stage: prepare"), prepared.out());
        assertTrue(Pattern.compile(" \\*      AES-CBC   aescbckey\\n        AES-CBC   aescbckey-\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\n")
                .matcher(prepared.out()).find(), prepared.out());
        assertEquals(0, run("rotate").exitCode());
        JsonNode json = new ObjectMapper().readTree(run("status", "-o", "json").out());
        assertEquals("rotate", json.get("stage").asText());
        assertTrue(json.get("activekey").asText().matches("AES-CBC aescbckey-\\d{4}-.*Z"), json.toString());
        assertEquals("AES-CBC aescbckey", json.get("inactivekeys").get(0).asText());
        assertTrue(json.get("enable").asBoolean());
        assertTrue(json.get("hashmatch").asBoolean());
        assertEquals("server-1", json.get("nodes").get(0).get("name").asText());
        assertEquals(List.of("aescbckey-", "aescbckey"), keysInFile().stream()
                .map(k -> k.name().replaceAll("\\d.*", "")).toList());
    }

    @Test
    void enableAdoptsAnExistingValidConfigInsteadOfReplacingItsKeys() throws Exception {
        Files.createDirectories(dataDir());
        Files.writeString(configFile(), """
                kind: EncryptionConfiguration
                apiVersion: apiserver.config.k8s.io/v1
                resources:
                  - resources: [secrets]
                    providers:
                      - identity: {}
                      - aesgcm:
                          keys:
                            - name: existing
                              secret: c2VjcmV0IGlzIHNlY3VyZQ==
                      - secretbox:
                          keys:
                            - name: box
                              secret: YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY=
                """);
        Cli.Result enable = run("enable");
        assertEquals(0, enable.exitCode(), enable.err());
        Cli.Result status = run("status");
        assertTrue(status.out().contains(" *      AES-GCM            existing\n"), status.out());
        assertTrue(status.out().contains("        XSalsa20-POLY1305  box"), status.out());
        assertEquals(List.of("c2VjcmV0IGlzIHNlY3VyZQ==", "YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY="),
                keysInFile().stream().map(Key::secret).toList());
        String written = Files.readString(configFile());
        assertTrue(written.indexOf("\"aesgcm\"") < written.indexOf("\"identity\""), "identity moved last");
    }

    @Test
    void anInvalidExistingConfigIsRefusedAndNothingIsWritten() throws Exception {
        Files.createDirectories(dataDir());
        String broken = """
                {"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.k8s.io/v1","resources":[{"resources":["secrets"],
                "providers":[{"aescbc":{"keys":[{"name":"k","secret":"c2hvcnRrZXk="}]}}]}]}
                """;
        Files.writeString(configFile(), broken);
        Cli.Result enable = run("enable");
        assertEquals(1, enable.exitCode());
        assertTrue(enable.err().contains("resources[0].providers[0].aescbc.keys[0].secret: Invalid value: \"REDACTED\": "
                + "secret is not of the expected length, got 8, expected one of [16 24 32]"), enable.err());
        assertFalse(enable.err().contains("c2hvcnRrZXk="));
        assertEquals(broken, Files.readString(configFile()));
        assertFalse(Files.exists(dataDir().resolve("encryption-state.json")));
    }

    @Test
    void disableThenEnableKeepsEveryKey() throws Exception {
        run("enable");
        run("prepare");
        List<Key> before = keysInFile();
        assertEquals(0, run("disable").exitCode());
        assertTrue(run("status").out().startsWith("Encryption Status: Disabled\n"));
        assertEquals(before, keysInFile());
        assertEquals(0, run("enable").exitCode());
        assertTrue(run("status").out().startsWith("Encryption Status: Enabled\n"));
        assertEquals(before, keysInFile());
    }

    @Test
    void statusWithoutAnyConfigSaysSo() {
        Cli.Result status = run("status");
        assertEquals(0, status.exitCode());
        assertEquals("Encryption Status: Disabled, no configuration file found\n", status.out());
    }

    @Test
    void aHandEditedFileIsAHashMismatchAndRotateWaitsForIt() throws Exception {
        run("enable");
        run("prepare");
        Files.writeString(configFile(), Files.readString(configFile()).replace("\n", "\n "), StandardCharsets.UTF_8);
        Cli.Result status = run("status");
        assertTrue(status.out().contains("Server Encryption Hashes: hash does not match between cluster and server-1"),
                status.out());
        Cli.Result rotate = run("rotate");
        assertEquals(1, rotate.exitCode());
        assertTrue(rotate.err().contains("Restart kube-apiserver on server-1"), rotate.err());
        assertEquals(0, run("rotate", "-f").exitCode());
    }

    @Test
    void usageErrorsExitWith2() {
        assertEquals(2, cli.run("no-such-command").exitCode());
        assertEquals(2, run("status", "-o", "yaml").exitCode());
        assertEquals(2, run("enable", "--no-such-flag").exitCode());
    }

    @Test
    void anUnknownProviderIsAUsageErrorAndNothingIsCreated() {
        Cli.Result r = run("enable", "--provider", "rot13");
        assertEquals(2, r.exitCode());
        assertTrue(r.err().contains("use one of aescbc, aesgcm, secretbox"), r.err());
        assertFalse(Files.exists(configFile()));
    }

    @Test
    void secretboxAndAesgcmClustersGetKeysOfTheirOwnType() throws Exception {
        assertEquals(0, run("enable", "--provider", "secretbox").exitCode());
        run("prepare");
        assertTrue(run("status").out().contains("XSalsa20-POLY1305  secretboxkey-"));
    }
}
