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
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Single-server mode through the command line: exit codes, printed text and the files kube-apiserver reads. */
@Tag("unit")
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

                Read from %s; this server's file: %s
                """.formatted(dataDir(), configFile()), status.out());
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
        assertEquals("Encryption Status: Disabled, no configuration file found at " + configFile() + "\n", status.out());
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
        // -f skips the stage order only, never the check that the server loaded the config
        Cli.Result forced = run("rotate", "-f");
        assertEquals(1, forced.exitCode(), forced.all());
        assertTrue(forced.err().contains("-f does not skip this check"), forced.err());
        assertEquals(0, run("sync").exitCode());
        assertEquals(0, run("rotate").exitCode());
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

    static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    @Test
    void aTempCopyAKilledWriteLeftBehindIsRemovedByTheNextCommand() throws Exception {
        assertEquals(0, run("enable").exitCode());
        Path leftover = dataDir().resolve(".encryption-config.json.8410293377.tmp");
        Files.copy(configFile(), leftover); // what a kill between the temp file and the rename leaves: every key
        Files.setLastModifiedTime(leftover, FileTime.from(Instant.now().minusSeconds(60)));
        Path unrelated = dataDir().resolve(".encryption-config.json.notours");
        Files.writeString(unrelated, "x");
        assertEquals(0, run("status").exitCode());
        assertFalse(Files.exists(leftover), "removed by a command that only reads");
        assertTrue(Files.exists(unrelated), "only its own leftovers");
        Files.copy(configFile(), leftover);
        Files.setLastModifiedTime(leftover, FileTime.from(Instant.now().minusSeconds(60)));
        assertEquals(0, run("prepare").exitCode());
        assertFalse(Files.exists(leftover), "removed by the next write");
    }

    @Test
    void aSymlinkedConfigIsWrittenThroughToItsTargetAndStaysALink() throws Exception {
        Path real = tmp.resolve("etc-kubernetes").resolve("enc.json");
        Files.createDirectories(real.getParent());
        Files.createDirectories(dataDir());
        Files.setPosixFilePermissions(dataDir(), PosixFilePermissions.fromString("rwx------"));
        assertEquals(0, run("enable").exitCode());
        Files.move(configFile(), real);
        Files.createSymbolicLink(configFile(), real);
        assertEquals(0, run("prepare").exitCode());
        assertTrue(Files.isSymbolicLink(configFile()), "the link stays a link");
        assertEquals(2, keysInFile().size(), "the target holds the prepared key: what kube-apiserver reads");
        assertEquals(2, ConfigFiles.read(real).resources().get(0).providers().stream()
                .mapToLong(p -> p instanceof KeyedProvider k ? k.keys().size() : 0).sum());
        assertEquals("rw-------", mode(real));
    }

    @Test
    void aDataDirOtherUsersCanWriteIsRefusedAndLeftAsItIs() throws Exception {
        assertEquals(0, run("enable").exitCode());
        byte[] before = Files.readAllBytes(configFile());
        Files.setPosixFilePermissions(dataDir(), PosixFilePermissions.fromString("rwxrwxrwx"));
        Cli.Result r = run("prepare");
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().startsWith("Error: the data dir " + dataDir() + " is writable by other users (mode rwxrwxrwx)"),
                r.err());
        assertTrue(r.err().contains("chmod 700 " + dataDir()), r.err());
        assertArrayEquals(before, Files.readAllBytes(configFile()));
        assertEquals("rwxrwxrwx", mode(dataDir()), "refused: nothing changed");
        Files.setPosixFilePermissions(dataDir(), PosixFilePermissions.fromString("rwx------"));
        Files.setPosixFilePermissions(configFile(), PosixFilePermissions.fromString("rw-rw-rw-"));
        Cli.Result file = run("status");
        assertEquals(1, file.exitCode(), file.all());
        assertTrue(file.err().contains("is writable by other users (mode rw-rw-rw-)"), file.err());
        Files.setPosixFilePermissions(configFile(), PosixFilePermissions.fromString("rw-r--r--"));
        Cli.Result readable = run("status");
        assertEquals(0, readable.exitCode(), readable.all());
        assertTrue(readable.err().contains("was readable by other users (mode rw-r--r--): made it 600"), readable.err());
        assertEquals("rw-------", mode(configFile()));
    }

    @Test
    void aTokenFileOthersCanReadIsRefusedAndATokenOnTheCommandLineIsWarnedAbout() throws Exception {
        Path token = tmp.resolve("token");
        Files.writeString(token, "cluster-token");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-r--r--"));
        Cli.Result r = run("status", "--endpoints", "http://127.0.0.1:1", "--etcd-timeout", "1", "--token-file",
                token.toString());
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().contains("the token file " + token + " is open to other users (mode rw-r--r--)"), r.err());
        assertFalse(r.all().contains("cluster-token"), r.all());
        Cli.Result onCommandLine = run("status", "--endpoints", "http://127.0.0.1:1", "--etcd-timeout", "1",
                "--token", "cluster-token");
        assertTrue(onCommandLine.err().contains("warning: --token on the command line is visible to every user"),
                onCommandLine.err());
        // from the environment Main.run is given, the same token is no warning: it is not on the command line
        Cli.Result fromEnvironment = cli.runWith(Map.of("SECRETS_ENCRYPT_TOKEN", "cluster-token"), "status", "-d",
                dataDir().toString(), "--endpoints", "http://127.0.0.1:1", "--etcd-timeout", "1");
        assertFalse(fromEnvironment.err().contains("--token on the command line"), fromEnvironment.err());
        assertFalse(fromEnvironment.all().contains("cluster-token"), fromEnvironment.all());
    }

    @Test
    void anEndlessFileIsRefusedWithASentenceNotAnOutOfMemoryError() throws Exception {
        Files.createDirectories(dataDir());
        Files.setPosixFilePermissions(dataDir(), PosixFilePermissions.fromString("rwx------"));
        Files.createSymbolicLink(configFile(), Path.of("/dev/zero"));
        Cli.Result config = run("status");
        assertEquals(1, config.exitCode(), config.all());
        assertTrue(config.err().contains("points at /dev/zero, which is not a regular file"), config.err());
        Files.delete(configFile());
        Cli.Result token = run("status", "--endpoints", "http://127.0.0.1:1", "--etcd-timeout", "1", "--token-file",
                "/dev/zero");
        assertEquals(1, token.exitCode(), token.all());
        assertEquals("Error: cannot read the token from /dev/zero: it is not a regular file (a device, FIFO or "
                + "directory); put the cluster token (the same on every server) in a file of its own, mode 600, and "
                + "give that", token.err().strip());
        assertFalse(token.all().contains("chmod"), "a device's mode is not the problem: " + token.all());
        assertFalse(token.all().contains("OutOfMemoryError"), token.all());
    }

    @Test
    void aDataDirAnotherUserOwnsOrAConfigLinkedIntoAWorldWritableDirectoryIsRefused() throws Exception {
        assertEquals(0, run("enable").exitCode());
        byte[] before = Files.readAllBytes(configFile());
        java.nio.file.attribute.UserPrincipal nobody = dataDir().getFileSystem().getUserPrincipalLookupService()
                .lookupPrincipalByName("nobody");
        java.nio.file.attribute.UserPrincipal owner = Files.getOwner(dataDir());
        Files.setOwner(dataDir(), nobody);
        Cli.Result foreign = run("prepare");
        Files.setOwner(dataDir(), owner);
        assertEquals(1, foreign.exitCode(), foreign.all());
        assertTrue(foreign.err().contains("belongs to the user nobody"), foreign.err());
        assertArrayEquals(before, Files.readAllBytes(configFile()));

        Path open = tmp.resolve("open-dir");
        Files.createDirectories(open);
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.move(configFile(), open.resolve("enc.json"));
        Files.createSymbolicLink(configFile(), open.resolve("enc.json"));
        Cli.Result linked = run("prepare");
        assertEquals(1, linked.exitCode(), linked.all());
        assertTrue(linked.err().contains("in a directory other users can write"), linked.err());
        assertArrayEquals(before, Files.readAllBytes(open.resolve("enc.json")));
    }
}
