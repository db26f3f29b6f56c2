package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.envelope.ProviderChain;
import dev.secretsencrypt.testing.EtcdCluster;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * rotate-keys on a three-member etcd with three servers. A server "restarts" by running sync, as an operator does
 * without agents: background threads do it after a delay, one server lagging, while rotate-keys waits.
 */
@Tag("cluster")
class RotateKeysTest {
    static EtcdCluster etcd;
    static final List<String> NODES = List.of("node-1", "node-2", "node-3");
    static final int SECRETS = 30;

    @TempDir
    Path tmp;
    final Cli cli = new Cli();
    /** Every key secret any server's file held during the test: none may ever be printed. */
    final Set<String> secretsSeen = new HashSet<>();
    final List<Cli> servers = new ArrayList<>();
    final List<Restarts> restarts = new ArrayList<>();

    @BeforeAll
    static void threeMembers() {
        etcd = EtcdCluster.start(3);
    }

    @BeforeEach
    void emptyCluster() {
        etcd.deleteAllKeys();
    }

    @AfterEach
    void stopSimulatedServers() throws Exception {
        for (Restarts r : restarts) {
            r.close();
        }
    }

    @AfterAll
    static void stop() {
        etcd.close();
    }

    Path file(String node) {
        return tmp.resolve(node).resolve("encryption-config.json");
    }

    String[] args(String node, String... args) throws Exception {
        Path token = tmp.resolve("token");
        if (!Files.exists(token)) {
            Cli.writeToken(token, "K10rotate-keys-token");
        }
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("-d", tmp.resolve(node).toString(), "--node-name", node,
                "--endpoints", etcd.endpoint(NODES.indexOf(node)), "--token-file", token.toString()));
        return all.toArray(String[]::new);
    }

    Cli.Result on(String node, String... args) throws Exception {
        Cli.Result r = cli.run(args(node, args));
        rememberKeys();
        return r;
    }

    Cli.Result rotateKeys(String... options) throws Exception {
        List<String> all = new ArrayList<>(List.of("rotate-keys", "--poll-interval-ms", "100"));
        all.addAll(List.of(options));
        return on("node-1", all.toArray(String[]::new));
    }

    void syncEveryServer() throws Exception {
        for (String node : NODES) {
            Cli.Result r = on(node, "sync");
            assertEquals(0, r.exitCode(), r.all());
        }
    }

    void rememberKeys() throws Exception {
        for (String node : NODES) {
            if (Files.exists(file(node))) {
                ConfigFiles.read(file(node)).resources().forEach(rule -> rule.providers().forEach(p -> {
                    if (p instanceof KeyedProvider k) {
                        k.keys().forEach(key -> secretsSeen.add(key.secret()));
                    }
                }));
            }
        }
    }

    /** kube-apiserver's data (a namespace, Secrets under the enabled key), and every server synced. */
    Envelope enabledWithSecrets() throws Exception {
        KV kv = etcd.client().getKVClient();
        kv.put(ByteSequence.from("/registry/namespaces/default", StandardCharsets.UTF_8),
                ByteSequence.from("k8s\0namespace", StandardCharsets.ISO_8859_1)).get(10, TimeUnit.SECONDS);
        assertEquals(0, on("node-1", "enable").exitCode());
        syncEveryServer();
        Envelope old = writer("node-1");
        for (int i = 0; i < SECRETS; i++) {
            byte[] k = ("/registry/secrets/ns/s-" + i).getBytes(StandardCharsets.UTF_8);
            kv.put(ByteSequence.from(k), ByteSequence.from(old.seal(("k8s\0secret-" + i)
                    .getBytes(StandardCharsets.ISO_8859_1), k))).get(10, TimeUnit.SECONDS);
        }
        return old;
    }

    Envelope writer(String node) throws Exception {
        return ProviderChain.of(ConfigFiles.read(file(node)).secretsRule().orElseThrow().providers()).writer();
    }

    /** Simulated servers: each runs sync every {@code delayMillis} (a restart that picks up the file), until closed. */
    final class Restarts implements AutoCloseable {
        final AtomicBoolean stop = new AtomicBoolean();
        final ExecutorService pool;

        Restarts(Map<String, Long> delayMillis) {
            pool = Executors.newFixedThreadPool(delayMillis.size());
            delayMillis.forEach((node, delay) -> {
                Cli own = new Cli(); // Cli keeps what it printed in a plain list: one per thread
                servers.add(own);
                pool.submit(() -> {
                    while (!stop.get()) {
                        Thread.sleep(delay); // the point: this server restarts (syncs) at its own pace
                        own.run(args(node, "sync"));
                    }
                    return null;
                });
            });
        }

        @Override
        public void close() throws InterruptedException {
            stop.set(true);
            pool.shutdown(); // no interrupt: a sync in flight finishes, so no later test sees it
            assertTrue(pool.awaitTermination(60, TimeUnit.SECONDS), "the simulated servers stopped");
        }
    }

    Restarts restartEvery(Map<String, Long> delayMillis) {
        Restarts r = new Restarts(delayMillis);
        restarts.add(r);
        return r;
    }

    String stage() throws Exception {
        Cli.Result status = on("node-2", "status");
        return status.out().lines().filter(l -> l.startsWith("Current Rotation Stage: ")).findFirst().orElseThrow()
                .substring("Current Rotation Stage: ".length());
    }

    void assertEveryServerHasTheSameFileWithOneKeyAndSecretsReadable(Envelope old) throws Exception {
        byte[] first = Files.readAllBytes(file("node-1"));
        for (String node : NODES) {
            assertArrayEquals(first, Files.readAllBytes(file(node)), node + " has another file");
        }
        ProviderChain now = ProviderChain.of(ConfigFiles.read(file("node-3")).secretsRule().orElseThrow().providers());
        assertEquals(1, now.readOrder().stream().filter(e -> e.description().startsWith("aescbc/")).count(),
                "the old key is retired: only the new one is left");
        assertFalse(now.writer().description().equals(old.description()), "the new key writes");
        KV kv = etcd.client().getKVClient();
        for (int i = 0; i < SECRETS; i++) {
            byte[] k = ("/registry/secrets/ns/s-" + i).getBytes(StandardCharsets.UTF_8);
            byte[] stored = kv.get(ByteSequence.from(k)).get(10, TimeUnit.SECONDS).getKvs().get(0).getValue().getBytes();
            assertArrayEquals(("k8s\0secret-" + i).getBytes(StandardCharsets.ISO_8859_1), now.open(stored, k).plaintext());
        }
    }

    void assertNoKeyPrinted() {
        List<String> printed = new ArrayList<>(cli.printed);
        servers.forEach(s -> printed.addAll(s.printed));
        assertTrue(secretsSeen.size() >= 2, "the test saw the old and the new key: " + secretsSeen.size());
        for (String out : printed) {
            for (String secret : secretsSeen) {
                assertFalse(out.contains(secret) || out.contains(secret.substring(0, 16)), "key material printed: " + out);
            }
        }
    }

    @Test
    void rotateKeysWaitsForTheLaggingServerAndCompletesOnceItCatchesUp() throws Exception {
        Envelope old = enabledWithSecrets();
        Restarts servers = restartEvery(Map.of("node-1", 200L, "node-2", 300L, "node-3", 2_500L));
        long started = System.nanoTime();
        Cli.Result run = rotateKeys("--timeout", "60s");
        long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
        servers.close();
        rememberKeys();
        assertEquals(0, run.exitCode(), run.all());
        String out = run.out();
        System.out.println("rotate-keys with node-3 lagging (" + seconds + " s):\n" + out);

        // each wait names node-3 as the one still to restart, and no step goes on before it loaded the config
        assertTrue(out.contains("step 1/4 prepare: "), out);
        assertTrue(out.contains("waiting up to 1m for every server to load the prepared config (stage prepare): "
                + "restart kube-apiserver on node-1, node-2, node-3"), out);
        assertTrue(out.matches("(?s).*still waiting for node-3\n.*"), out);
        int node3Prepared = out.indexOf("  node-3 loaded the prepared config (stage prepare) (3/3)");
        int rotate = out.indexOf("step 2/4 rotate: ");
        int node3Rotated = out.indexOf("  node-3 loaded the rotated config (3/3)");
        int reencrypt = out.indexOf("step 3/4 reencrypt: ");
        assertTrue(out.indexOf("step 4/4 wait: every server loads the final config") > reencrypt, "every step "
                + "announced, the last one too: " + out);
        assertTrue(node3Prepared > 0 && node3Prepared < rotate, out);
        assertTrue(rotate < node3Rotated && node3Rotated < reencrypt, out);
        assertTrue(out.contains("retired aescbc/"), out);
        assertTrue(out.indexOf("every server (3) loaded the final config") > reencrypt, out);
        assertTrue(out.strip().endsWith("run rotate-keys again for the next rotation"), out);
        assertTrue(out.contains("rotate-keys done: every server loaded the final config (reencrypt_finished-"), out);

        assertEquals("reencrypt_finished", stage());
        assertTrue(on("node-3", "status").out().contains("All hashes match"));
        assertEveryServerHasTheSameFileWithOneKeyAndSecretsReadable(old);
        assertEquals(0, on("node-2", "verify").exitCode());
        assertNoKeyPrinted();
    }

    @Test
    void aServerThatNeverLoadsTheConfigIsNamedAtTheTimeoutAndARerunAfterItSyncsCompletes() throws Exception {
        Envelope old = enabledWithSecrets();
        Restarts twoServers = restartEvery(Map.of("node-1", 150L, "node-2", 150L)); // node-3 is never restarted
        Cli.Result stopped = rotateKeys("--timeout", "3s");
        assertEquals(1, stopped.exitCode(), stopped.all());
        assertTrue(stopped.err().contains("rotate-keys stopped after step 1 (prepare): in 3s not every server loaded "
                + "the prepared config (stage prepare): node-3 did not load it: restart kube-apiserver on node-3 (run sync "
                + "there first). The state stays at stage prepare: run rotate-keys again to continue from there"),
                stopped.err());
        assertFalse(stopped.out().contains("step 2/4"), stopped.out());
        assertEquals("prepare", stage());

        assertEquals(0, on("node-3", "sync").exitCode()); // the operator restarts it
        Restarts third = restartEvery(Map.of("node-3", 150L));
        Cli.Result resumed = rotateKeys("--timeout", "30s");
        twoServers.close();
        third.close();
        rememberKeys();
        assertEquals(0, resumed.exitCode(), resumed.all());
        assertTrue(resumed.out().startsWith("continuing the rotation from stage prepare\n"), resumed.out());
        assertFalse(resumed.out().contains("step 1/4"), "prepare is not run twice: " + resumed.out());
        assertTrue(resumed.out().contains("step 2/4 rotate"), resumed.out());
        assertEveryServerHasTheSameFileWithOneKeyAndSecretsReadable(old);
        assertNoKeyPrinted();
    }

    @Test
    void rotateKeysStoppedAtEachWaitContinuesFromTheStoredStageAndSnapshotsBeforeRetiring() throws Exception {
        Envelope old = enabledWithSecrets();
        Path snapshots = tmp.resolve("snapshots");
        Files.createDirectories(snapshots);
        Files.setPosixFilePermissions(snapshots, PosixFilePermissions.fromString("rwx------"));
        Path older = snapshots.resolve("etcd-before-retire-20200101T000000.000Z.db");
        Files.write(older, new byte[] {1});
        String[] snapshotOptions = {"--snapshot-dir", snapshots.toString(), "--snapshot-keep", "1"};

        // nobody restarts anything: each run does one step, then stops at its wait
        Cli.Result first = rotateKeys("--timeout", "1s");
        assertEquals(1, first.exitCode());
        assertTrue(first.out().contains("step 1/4 prepare"), first.out());
        assertTrue(first.err().contains("node-1, node-2, node-3 did not load it"), first.err());
        assertEquals("prepare", stage());

        syncEveryServer();
        Cli.Result second = rotateKeys("--timeout", "1s");
        assertEquals(1, second.exitCode(), second.all());
        assertTrue(second.out().startsWith("continuing the rotation from stage prepare\nevery server (3) already "
                + "loaded the prepared config"), second.out());
        assertTrue(second.out().contains("step 2/4 rotate"), second.out());
        assertTrue(second.err().contains("rotate-keys stopped after step 2 (rotate)"), second.err());
        assertEquals("rotate", stage());

        syncEveryServer();
        List<String> third = new ArrayList<>(List.of("--timeout", "1s"));
        third.addAll(List.of(snapshotOptions));
        Cli.Result reencrypted = rotateKeys(third.toArray(String[]::new));
        assertEquals(1, reencrypted.exitCode(), reencrypted.all());
        assertTrue(reencrypted.out().contains("step 3/4 reencrypt"), reencrypted.out());
        assertTrue(reencrypted.err().contains("rotate-keys stopped after step 3 (reencrypt)"), reencrypted.err());
        assertEquals("reencrypt_finished", stage());
        assertTrue(reencrypted.out().contains("removed the oldest: " + older.getFileName()), reencrypted.out());

        // the snapshot: one kept, private, and a whole etcd snapshot (bbolt file plus etcd's sha256 of it)
        List<Path> saved;
        try (Stream<Path> files = Files.list(snapshots)) {
            saved = files.toList();
        }
        assertEquals(1, saved.size(), saved.toString());
        Path snapshot = saved.get(0);
        assertTrue(snapshot.getFileName().toString().matches("etcd-before-retire-\\d{8}T\\d{6}\\.\\d{3}Z\\.db"),
                snapshot.toString());
        assertTrue(reencrypted.out().contains("saved etcd snapshot " + snapshot + " ("), reencrypted.out());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(snapshot)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(snapshots)));
        assertIsAnEtcdSnapshot(Files.readAllBytes(snapshot));

        // run again at the last wait: it waits for the final reports, then says done (no new rotation)
        Restarts servers = restartEvery(Map.of("node-1", 300L, "node-2", 300L, "node-3", 600L));
        Cli.Result last = rotateKeys("--timeout", "20s");
        servers.close();
        assertEquals(0, last.exitCode(), last.all());
        assertTrue(last.out().startsWith("continuing the rotation from stage reencrypt_finished: its final config is "
                + "not loaded everywhere yet\nstep 4/4 wait: every server loads the final config\nwaiting up to 20s for "
                + "every server to load the final config"), last.out());
        assertTrue(last.out().contains("every server (3) loaded the final config"), last.out());
        assertFalse(last.out().contains("step 1/4"), last.out());
        assertEquals("reencrypt_finished", stage());
        assertEveryServerHasTheSameFileWithOneKeyAndSecretsReadable(old);
        assertNoKeyPrinted();
    }

    @Test
    void aSnapshotDirOthersCanReadIsRefusedBeforeAnyStep() throws Exception {
        enabledWithSecrets();
        Path open = tmp.resolve("open-snapshots");
        Files.createDirectories(open);
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
        Cli.Result refused = rotateKeys("--timeout", "1s", "--snapshot-dir", open.toString());
        assertEquals(1, refused.exitCode(), refused.all());
        assertTrue(refused.err().contains("--snapshot-dir " + open + " is open to others (mode rwxr-xr-x) and a "
                + "snapshot holds every Secret: run chmod 700 " + open), refused.err());
        assertEquals("", refused.out());
        assertEquals("start", stage());
    }

    @Test
    void aWrongEtcdPrefixIsRefusedBeforePrepareNotAfterRotate() throws Exception {
        enabledWithSecrets();
        Cli.Result refused = rotateKeys("--timeout", "1s", "--etcd-prefix", "/not-the-registry");
        assertEquals(1, refused.exitCode(), refused.all());
        assertTrue(refused.err().contains("no kube-apiserver data under /not-the-registry"), refused.err());
        assertEquals("", refused.out());
        assertEquals("start", stage());
    }

    /**
     * What etcdctl snapshot status checks first: a bbolt file (meta page magic 0xED0CDAED at byte 16, whole pages)
     * followed by the sha256 of those bytes, which etcd appends to every snapshot it streams.
     */
    static void assertIsAnEtcdSnapshot(byte[] bytes) throws Exception {
        assertTrue(bytes.length > 4096 + 32, "a snapshot of a live etcd is pages long: " + bytes.length);
        ByteBuffer meta = ByteBuffer.wrap(bytes, 16, 12).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0xED0CDAED, meta.getInt(), "bbolt magic");
        assertEquals(2, meta.getInt(), "bbolt version");
        int pageSize = meta.getInt();
        assertEquals(0, (bytes.length - 32) % pageSize, "whole " + pageSize + "-byte pages plus the 32-byte hash");
        byte[] db = Arrays.copyOf(bytes, bytes.length - 32);
        byte[] hash = Arrays.copyOfRange(bytes, bytes.length - 32, bytes.length);
        assertArrayEquals(MessageDigest.getInstance("SHA-256").digest(db), hash, "etcd's sha256 of the snapshot");
    }
}
