package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.config.EncryptionConfig;
import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.config.KmsProvider;
import dev.secretsencrypt.config.Provider;
import dev.secretsencrypt.config.ResourceRule;
import dev.secretsencrypt.testing.TestDatastore;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Cluster mode against a real etcd: the state, the hash comparison and sync, as operators drive them. */
@Tag("etcd")
@Tag("datastore")
class ClusterModeTest {
    @TempDir
    Path tmp;
    final Cli cli = new Cli();
    TestDatastore etcd;
    String statePrefix;
    Path tokenFile;

    @BeforeEach
    void shareOneEtcdButNotItsKeys() throws Exception {
        etcd = TestDatastore.shared();
        statePrefix = "/test-" + UUID.randomUUID() + "/";
        tokenFile = tmp.resolve("token");
        Cli.writeToken(tokenFile, "K10cluster-token-" + UUID.randomUUID());
        // kube-apiserver's data under the default --etcd-prefix: rotate looks there for the apiservers that run
        etcd.client().getKVClient().put(ByteSequence.from("/registry/namespaces/default", StandardCharsets.UTF_8),
                ByteSequence.from("k8s\0namespace", StandardCharsets.ISO_8859_1)).get(10, java.util.concurrent.TimeUnit.SECONDS);
    }

    Path dataDir(String node) {
        return tmp.resolve(node);
    }

    Path configFile(String node) {
        return dataDir(node).resolve("encryption-config.json");
    }

    /** One server node's command line: its own data dir and name, the shared etcd and token. */
    Cli.Result onEndpoints(String node, String endpoints, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("-d", dataDir(node).toString(), "--node-name", node, "--endpoints", endpoints,
                "--token-file", tokenFile.toString(), "--state-prefix", statePrefix));
        return cli.run(all.toArray(String[]::new));
    }

    Cli.Result on(String node, String... args) {
        return onEndpoints(node, etcd.endpointsCsv(), args);
    }

    static void ok(Cli.Result r) {
        assertEquals(0, r.exitCode(), r.all());
    }

    @Test
    void enableCreatesTheClusterStateAndSyncReportsWhatThisServerLoaded() throws Exception {
        ok(on("node-1", "enable"));
        assertTrue(Files.exists(configFile("node-1")), "enable writes this node's file");
        Cli.Result before = on("node-1", "status");
        assertTrue(before.out().contains("Server Encryption Hashes: no server has reported its hash yet"), before.out());
        ok(on("node-1", "sync"));
        String hash = ConfigFiles.sha256Hex(Files.readAllBytes(configFile("node-1")));
        Cli.Result status = on("node-1", "status");
        assertTrue(status.out().contains("Server Encryption Hashes: All hashes match"), status.out());
        assertTrue(status.out().contains("\nnode-1  start-" + hash + "  from file\n"), status.out());
        assertTrue(status.out().endsWith("\nRead from " + etcd.name() + " " + etcd.endpointsCsv() + " " + statePrefix + "; this "
                + "server's file: " + configFile("node-1") + "\n"), status.out());
        assertTrue(on("node-1", "status", "-o", "json").out().contains("\"hash\" : \"" + hash + "\""));
    }

    @Test
    void aServerWhoseReportDoesNotParseIsNamedAndKeepsRotateRefused() throws Exception {
        ok(on("node-1", "enable"));
        ok(on("node-2", "sync"));
        ok(on("node-1", "sync"));
        ok(on("node-1", "prepare"));
        ok(on("node-1", "sync"));
        for (String damaged : List.of("garbage", "futurestage-" + "0".repeat(64), "prepare-")) {
            etcd.client().getKVClient().put(ByteSequence.from(statePrefix + "nodes/node-2", StandardCharsets.UTF_8),
                    ByteSequence.from(damaged, StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS);
            Cli.Result status = on("node-1", "status");
            assertFalse(status.out().contains("All hashes match"), status.out());
            assertTrue(status.out().contains("the report of node-2 does not parse"), status.out());
            Cli.Result rotate = on("node-1", "rotate");
            assertEquals(1, rotate.exitCode(), rotate.all());
            assertTrue(rotate.err().contains("node-2 (its report does not parse)"), rotate.err());
            assertTrue(on("node-1", "status").out().contains("Current Rotation Stage: prepare"), "refused: unchanged");
        }
    }

    @Test
    void enableAdoptsThisNodesExistingConfigWhenTheClusterHasNoState() throws Exception {
        Files.createDirectories(dataDir("node-1"));
        // the upstream file's rule covers the resource "ignored"; here it covers Secrets, as a real cluster's would
        Files.writeString(configFile("node-1"), Files.readString(Path.of(
                "testdata/encryption-configs/upstream/valid-configs/aes/aes-cbc-multiple-keys.json")).replace("ignored", "secrets"));
        ok(on("node-1", "enable"));
        ok(on("node-2", "sync"));
        List<Key> keys = ConfigFiles.read(configFile("node-2")).resources().get(0).providers().stream()
                .flatMap(p -> ((KeyedProvider) p).keys().stream()).toList();
        assertEquals(List.of("A", "B"), keys.stream().map(Key::name).toList());
        assertEquals("Owq7A4JrJpSjrvH8kXkvl4JmOLzvZ6j9BcGRkR8OPQ4=", keys.get(0).secret());
    }

    @Test
    void syncNeverSilentlyDropsAKeyThisServersOwnFileHolds() throws Exception {
        ok(on("node-1", "enable"));
        Files.createDirectories(dataDir("node-2"));
        Files.copy(Path.of("testdata/encryption-configs/upstream/valid-configs/aes/aes-cbc-multiple-keys.json"),
                configFile("node-2"));
        byte[] own = Files.readAllBytes(configFile("node-2"));
        Cli.Result refused = on("node-2", "sync");
        assertEquals(1, refused.exitCode());
        assertTrue(refused.err().contains("holds key(s) or provider(s) the cluster state does not: aescbc/A, aescbc/B"), refused.err());
        assertArrayEquals(own, Files.readAllBytes(configFile("node-2")), "the file is left as it was");
        ok(on("node-2", "sync", "-f"));
        assertTrue(on("node-2", "status").out().contains("node-2  start-"));
    }

    @Test
    void syncNeverSilentlyDropsAKmsProviderThisServersFileHolds() throws Exception {
        ok(on("node-1", "enable"));
        ok(on("node-2", "sync"));
        EncryptionConfig mine = ConfigFiles.read(configFile("node-2"));
        ResourceRule rule = mine.resources().get(0);
        List<Provider> withKms = new ArrayList<>(rule.providers());
        withKms.add(1, new KmsProvider("v2", "mykms", "unix:///run/kms.sock", null, null));
        ConfigFiles.write(configFile("node-2"), mine.withResources(List.of(rule.withProviders(withKms))));
        Cli.Result refused = on("node-2", "sync");
        assertEquals(1, refused.exitCode(), refused.all());
        assertTrue(refused.err().contains("kmsv2/mykms"), refused.err());
        assertTrue(Files.readString(configFile("node-2")).contains("mykms"), "the file is left as it was");
    }

    @Test
    void aServerThatRanInSingleServerModeBringsItsStageAndKeysIntoTheCluster() throws Exception {
        String dir = dataDir("node-1").toString();
        ok(cli.run("enable", "-d", dir));
        ok(cli.run("prepare", "-d", dir));
        byte[] local = Files.readAllBytes(configFile("node-1"));
        ok(on("node-1", "enable"));
        assertArrayEquals(local, Files.readAllBytes(configFile("node-1")), "the same keys, the same file");
        Cli.Result status = on("node-1", "status");
        assertTrue(status.out().contains("Current Rotation Stage: prepare"), status.out());
        ok(on("node-1", "sync"));
        ok(on("node-1", "rotate"));
    }

    @Test
    void aWrongTokenIsAClearErrorAndNeverGarbage() throws Exception {
        ok(on("node-1", "enable"));
        Cli.writeToken(tokenFile, "not-the-cluster-token");
        Cli.Result status = on("node-1", "status");
        assertEquals(1, status.exitCode());
        assertTrue(status.err().startsWith("Error: the cluster token does not open the stored state"), status.err());
    }

    @Test
    void aDamagedStateIsToldApartFromAWrongToken() throws Exception {
        ok(on("node-1", "enable"));
        ByteSequence stateKey = ByteSequence.from(statePrefix + "state", StandardCharsets.UTF_8);
        byte[] wrapped = etcd.client().getKVClient().get(stateKey).get(10, TimeUnit.SECONDS).getKvs().get(0)
                .getValue().getBytes();
        wrapped[wrapped.length / 2] ^= 0x01; // one bit flipped on disk
        etcd.client().getKVClient().put(stateKey, ByteSequence.from(wrapped)).get(10, TimeUnit.SECONDS);
        Cli.Result damaged = on("node-1", "status");
        assertEquals(1, damaged.exitCode(), damaged.all());
        assertTrue(damaged.err().startsWith("Error: the stored state " + statePrefix + "state is damaged: the token is "
                + "right"), damaged.err());
        Cli.writeToken(tokenFile, "not-the-cluster-token");
        Cli.Result wrongToken = on("node-1", "status");
        assertTrue(wrongToken.err().contains("this is not the token the cluster was enabled with"), wrongToken.err());
    }

    @Test
    void etcdHoldsNoKeyByteAndNoBase64OfAKey() throws Exception {
        ok(on("node-1", "enable"));
        ok(on("node-1", "prepare"));
        List<Key> keys = ConfigFiles.read(configFile("node-1")).resources().get(0).providers().stream()
                .filter(p -> p instanceof KeyedProvider).flatMap(p -> ((KeyedProvider) p).keys().stream()).toList();
        assertEquals(2, keys.size());
        List<KeyValue> raw = etcd.client().getKVClient().get(ByteSequence.from(statePrefix, StandardCharsets.UTF_8),
                GetOption.builder().isPrefix(true).build()).get(10, TimeUnit.SECONDS).getKvs();
        assertFalse(raw.isEmpty());
        for (KeyValue kv : raw) {
            byte[] value = kv.getValue().getBytes();
            String text = new String(value, StandardCharsets.ISO_8859_1);
            for (Key k : keys) {
                byte[] secret = k.secretBytes();
                assertFalse(indexOf(value, secret) >= 0, "raw key bytes in " + kv.getKey());
                assertFalse(text.contains(k.secret()), "base64 key in " + kv.getKey());
                assertFalse(text.contains(HexFormat.of().formatHex(secret)), "hex key in " + kv.getKey());
                assertFalse(text.contains(Base64.getUrlEncoder().encodeToString(secret)), "base64url key");
            }
        }
    }

    @Test
    void twoPreparesAtOnceOnTwoServersLetExactlyOneWin() throws Exception {
        ok(on("node-1", "enable"));
        ok(on("node-1", "sync"));
        ok(on("node-2", "sync"));
        ExecutorService pool = Executors.newFixedThreadPool(2);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<Cli.Result>> runs = new ArrayList<>();
        for (String node : List.of("node-1", "node-2")) {
            runs.add(pool.submit(() -> {
                go.await();
                return on(node, "prepare");
            }));
        }
        go.countDown();
        List<Cli.Result> results = new ArrayList<>();
        for (Future<Cli.Result> f : runs) {
            results.add(f.get(60, TimeUnit.SECONDS));
        }
        pool.shutdown();
        assertEquals(1, results.stream().filter(r -> r.exitCode() == 0).count(), results.toString());
        Cli.Result loser = results.stream().filter(r -> r.exitCode() != 0).findFirst().orElseThrow();
        assertEquals(1, loser.exitCode());
        // the loser either lost the compare-and-swap or read the winner's stage: both refuse and write nothing
        assertTrue(loser.err().contains("changed under this command") || loser.err().contains("needs stage"),
                loser.err());
        Cli.Result status = on("node-1", "status");
        assertEquals(2, status.out().lines().filter(l -> l.contains("AES-CBC")).count(), "one key added: " + status.out());
    }

    @Test
    void anUnreachableEtcdIsAClearErrorWithinSeconds() {
        long start = System.nanoTime();
        Cli.Result r = onEndpoints("node-1", "http://127.0.0.1:1", "status", "--etcd-timeout", "2");
        double seconds = (System.nanoTime() - start) / 1e9;
        assertEquals(1, r.exitCode());
        assertTrue(r.err().startsWith("Error: cannot read the rotation state"), r.err());
        assertTrue(r.err().contains("check --endpoints"), r.err());
        assertTrue(seconds < 15, "took " + seconds + " s");
    }

    @Test
    void syncWithoutClusterStateSaysToEnableFirst() {
        Cli.Result r = on("node-1", "sync");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("run enable first"), r.err());
        assertFalse(Files.exists(configFile("node-1")));
    }

    @Test
    void aMissingTokenIsRefusedBeforeAnythingIsWritten() throws Exception {
        Files.delete(tokenFile);
        Cli.Result r = on("node-1", "enable");
        assertEquals(1, r.exitCode());
        assertTrue(r.err().contains("no cluster token"), r.err());
        assertFalse(Files.exists(configFile("node-1")));
    }

    static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    @Test
    void prepareAndRotateChangeTheStateAndThisNodesFileButNotItsReport() throws Exception {
        ok(on("node-1", "enable"));
        ok(on("node-1", "sync"));
        byte[] reportedFile = Files.readAllBytes(configFile("node-1"));
        ok(on("node-1", "prepare"));
        assertFalse(java.util.Arrays.equals(reportedFile, Files.readAllBytes(configFile("node-1"))),
                "prepare wrote this node's file");
        Cli.Result status = on("node-1", "status");
        assertTrue(status.out().contains("node-1  start-" + ConfigFiles.sha256Hex(reportedFile)), status.out());
        assertTrue(status.out().contains("hash does not match between cluster and node-1"), status.out());
        Cli.Result rotate = on("node-1", "rotate");
        assertEquals(1, rotate.exitCode());
        assertTrue(rotate.err().contains("Restart kube-apiserver on node-1"), rotate.err());
        assertArrayEquals(Files.readAllBytes(configFile("node-1")), Files.readAllBytes(configFile("node-1")));
    }

    @Test
    void aDataDirThatJoinedAClusterRefusesEveryCommandWithoutItsEndpoints() throws Exception {
        ok(on("node-1", "enable"));
        ok(on("node-1", "sync"));
        byte[] file = Files.readAllBytes(configFile("node-1"));
        for (String command : List.of("status", "prepare", "enable", "rotate")) {
            Cli.Result bare = cli.run(command, "-d", dataDir("node-1").toString(), "--node-name", "node-1");
            assertEquals(1, bare.exitCode(), command + ": " + bare.all());
            assertTrue(bare.err().contains("belongs to the cluster"), bare.err());
            assertTrue(bare.err().contains("run the command with --endpoints " + etcd.endpointsCsv()), bare.err());
        }
        assertArrayEquals(file, Files.readAllBytes(configFile("node-1")), "refused: nothing changed");
        assertFalse(Files.exists(dataDir("node-1").resolve("encryption-state.json")), "no single-server state made");
    }

    @Test
    void aDataDirOfOneClusterIsRefusedByAnother() throws Exception {
        ok(on("node-1", "enable"));
        ok(on("node-1", "sync"));
        String first = statePrefix;
        statePrefix = "/other-" + UUID.randomUUID() + "/";
        ok(on("node-2", "enable"));
        Cli.Result sync = on("node-1", "sync");
        assertEquals(1, sync.exitCode(), sync.all());
        assertTrue(sync.err().contains("belongs to the cluster"), sync.err());
        // the other cluster's state is under another prefix: refused before connecting, naming its own
        assertTrue(sync.err().contains("run the command with --state-prefix " + first.substring(0, first.length() - 1)
                + " "), sync.err());
        statePrefix = first;
        ok(on("node-1", "sync"));
    }

    @Test
    void twoMachinesReportingUnderOneNameAreRefusedUntilTheOldOneIsForgotten() throws Exception {
        ok(on("node-1", "enable"));
        ok(on("node-1", "sync"));
        ok(on("node-2", "sync"));
        List<String> clone = new ArrayList<>(List.of("sync", "-d", dataDir("clone").toString(), "--node-name", "node-1",
                "--endpoints", etcd.endpointsCsv(), "--token-file", tokenFile.toString(), "--state-prefix", statePrefix));
        Cli.Result refused = cli.run(clone.toArray(String[]::new));
        assertEquals(1, refused.exitCode(), refused.all());
        assertTrue(refused.err().contains("another machine reports as node-1"), refused.err());
        assertTrue(refused.err().contains("nodes forget node-1"), refused.err());

        ok(on("node-1", "prepare"));
        ok(on("node-1", "sync"));
        Cli.Result nodes = on("node-1", "nodes");
        ok(nodes);
        assertTrue(nodes.out().matches("(?s).*\nnode-1 +prepare-[0-9a-f]{64} +file +\\d+s +yes\n.*"), nodes.out());
        assertTrue(nodes.out().matches("(?s).*\nnode-2 +start-[0-9a-f]{64} +file +\\d+s +needs restart\\s*"), nodes.out());

        Cli.Result forget = on("node-1", "nodes", "forget", "node-1");
        ok(forget);
        assertTrue(forget.out().startsWith("forgot node-1"), forget.out());
        ok(cli.run(clone.toArray(String[]::new)));
        Cli.Result unknown = on("node-1", "nodes", "forget", "node-9");
        assertEquals(1, unknown.exitCode());
        assertTrue(unknown.err().contains("there is no server named node-9"), unknown.err());
    }

    @Test
    void statusShowsWhenThisServersFileWasEditedByHand() throws Exception {
        ok(on("node-1", "enable"));
        ok(on("node-1", "sync"));
        Files.writeString(configFile("node-1"), Files.readString(configFile("node-1")) + "\n");
        Cli.Result status = on("node-1", "status");
        assertTrue(status.out().contains("This server: " + configFile("node-1") + " differs from the cluster's config "
                + "(hand-edited, or not synced yet): run sync"), status.out());
        ok(on("node-1", "sync"));
        assertFalse(on("node-1", "status").out().contains("This server:"));
    }
}
