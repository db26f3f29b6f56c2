package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.etcd.jetcd.ByteSequence;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A step on a server whose data dir cannot be written (here a read-only mount, as a server's disk remounted read-only
 * after an error) is refused before the cluster state changes: exit 1, the OS's reason, and the stage and keys as
 * they were; once the dir is writable again the same command goes through. Needs root (mount).
 */
@Tag("etcd")
class ReadOnlyDataDirTest {
    @TempDir
    Path tmp;
    SimulatedServers servers;
    Path dataDir;
    boolean mounted;

    @BeforeEach
    void oneServer() throws IOException {
        servers = new SimulatedServers(tmp);
        dataDir = tmp.resolve("node-1");
    }

    @AfterEach
    void unmount() throws Exception {
        if (mounted) {
            mount("umount", dataDir.toString());
        }
    }

    Cli.Result se(String... command) {
        return servers.on("node-1", command);
    }

    @Test
    void prepareOnAReadOnlyDataDirIsRefusedBeforeTheClusterStateChanges() throws Exception {
        assertEquals(0, se("enable").exitCode());
        assertEquals(0, se("sync").exitCode());
        String before = se("status").out();
        byte[] file = Files.readAllBytes(dataDir.resolve("encryption-config.json"));
        byte[] stored = servers.kv().get(ByteSequence.from(servers.statePrefix + "state",
                StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS).getKvs().get(0).getValue()
                .getBytes();

        assumeTrue(mount("mount", "--bind", dataDir.toString(), dataDir.toString()), "bind mounts need root");
        mounted = true;
        assertTrue(mount("mount", "-o", "remount,ro,bind", dataDir.toString()), "remount read-only");

        Cli.Result prepare = se("prepare");
        System.out.println("prepare on a read-only data dir:\n" + prepare.all());
        assertEquals(1, prepare.exitCode(), prepare.all());
        assertEquals("Error: cannot write " + dataDir.resolve("encryption-config.json") + ": read-only file system; "
                + "nothing was changed: make its directory writable for this user (a read-only mount, a full disk or "
                + "its owner), then run the command again", prepare.err().strip());
        assertFalse(prepare.all().contains("Exception"), prepare.all());
        assertEquals(before, se("status").out(), "the stage and keys as they were");
        assertArrayEquals(stored, servers.kv().get(ByteSequence.from(servers.statePrefix
                + "state", StandardCharsets.UTF_8)).get(10, TimeUnit.SECONDS).getKvs().get(0)
                .getValue().getBytes(), "the stored state untouched");
        assertArrayEquals(file, Files.readAllBytes(dataDir.resolve("encryption-config.json")));

        assertTrue(mount("umount", dataDir.toString()));
        mounted = false;
        Cli.Result again = se("prepare");
        assertEquals(0, again.exitCode(), again.all());
        assertTrue(se("status").out().contains("Current Rotation Stage: prepare"), "the same command goes through");
    }

    @Test
    void reencryptOnAReadOnlyDataDirIsRefusedBeforeItsPassRewritesAnything() throws Exception {
        servers.putDefaultNamespace();
        var kv = servers.kv();
        for (String step : List.of("enable", "sync", "prepare", "sync", "rotate", "sync")) {
            assertEquals(0, se(step).exitCode(), step);
        }
        ByteSequence secret = ByteSequence.from(servers.etcdPrefix + "/secrets/default/s", StandardCharsets.UTF_8);
        kv.put(secret, ByteSequence.from("k8s\0plaintext", StandardCharsets.ISO_8859_1)).get(10, TimeUnit.SECONDS);
        long revision = kv.get(secret).get(10, TimeUnit.SECONDS).getKvs().get(0).getModRevision();

        assumeTrue(mount("mount", "--bind", dataDir.toString(), dataDir.toString()), "bind mounts need root");
        mounted = true;
        assertTrue(mount("mount", "-o", "remount,ro,bind", dataDir.toString()), "remount read-only");
        Cli.Result reencrypt = se("reencrypt");
        System.out.println("reencrypt on a read-only data dir:\n" + reencrypt.all());
        assertEquals(1, reencrypt.exitCode(), reencrypt.all());
        // (a note on the identity lease may come first: this test runs no kube-apiserver)
        assertTrue(reencrypt.err().contains("Error: cannot write " + dataDir.resolve("encryption-config.json")
                + ": read-only file system; nothing was changed"), reencrypt.err());
        assertEquals(revision, kv.get(secret).get(10, TimeUnit.SECONDS).getKvs().get(0).getModRevision(),
                "no value rewritten");
        assertTrue(se("status").out().contains("Current Rotation Stage: rotate"), "the stage where it was");
    }

    @Test
    void enableOnAServerOfItsOwnWithAReadOnlyDataDirSaysTheOsReasonNotThePathAgain() throws Exception {
        Files.createDirectories(dataDir);
        Files.setPosixFilePermissions(dataDir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx------"));
        assumeTrue(mount("mount", "--bind", dataDir.toString(), dataDir.toString()), "bind mounts need root");
        mounted = true;
        assertTrue(mount("mount", "-o", "remount,ro,bind", dataDir.toString()), "remount read-only");
        Cli.Result enable = servers.cli.run("enable", "-d", dataDir.toString(), "--node-name", "node-1");
        System.out.println("enable on a read-only data dir, one server:\n" + enable.all());
        assertEquals(1, enable.exitCode(), enable.all());
        assertTrue(enable.err().startsWith("Error: cannot write " + dataDir.resolve("encryption-config.json")
                + ": read-only file system; nothing was changed"), enable.err());
        assertFalse(enable.all().contains("Exception"), enable.all());
        try (var left = Files.list(dataDir)) {
            assertEquals(0, left.count(), "nothing written");
        }
    }

    private static boolean mount(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        boolean ok = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        if (!ok) {
            System.out.println(String.join(" ", command) + ": " + out);
        }
        return ok;
    }
}
