package dev.secretsencrypt.deploy;

import dev.secretsencrypt.testing.ChildJvm;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.envelope.ProviderChain;
import dev.secretsencrypt.testing.EtcdCluster;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * scripts/ha-rotate.sh on a real etcd with three simulated servers on one machine, each its own data dir and node
 * name. The restart command runs {@code secrets-encrypt sync} for that server: what the sync drop-in does when a
 * real server restarts.
 */
@Tag("cluster")
class HaRotateScriptTest {
    static final Path SCRIPT = Path.of("scripts/ha-rotate.sh").toAbsolutePath();
    static final List<String> SERVERS = List.of("node-1", "node-2", "node-3");

    final EtcdCluster etcd = EtcdCluster.shared();
    @TempDir
    Path tmp;
    Path bin;
    Path token;

    record Run(int exitCode, String output) {
    }

    @BeforeEach
    void threeServersEnabledAndSynced() throws Exception {
        etcd.deleteAllKeys();
        // `secrets-encrypt` on PATH, as install.sh puts it there: this build, on the test's class path
        bin = Files.createDirectories(tmp.resolve("bin"));
        Path tool = bin.resolve("secrets-encrypt");
        Files.writeString(tool, ChildJvm.script());
        Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rwxr-xr-x"));
        token = tmp.resolve("token");
        Files.writeString(token, "K10ha-rotate-script-token");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
        etcd.client().getKVClient().put(bytes("/registry/namespaces/default"), bytes("k8s\0namespace"))
                .get(10, TimeUnit.SECONDS);
        assertEquals(0, tool("node-1", "enable").exitCode());
        for (String server : SERVERS) {
            Run sync = tool(server, "sync");
            assertEquals(0, sync.exitCode(), sync.output());
        }
    }

    @Test
    void theWholeRotationRunsServerByServerAndEndsReencryptFinished() throws Exception {
        KV kv = etcd.client().getKVClient();
        Envelope old = writer();
        for (int i = 0; i < 20; i++) {
            byte[] key = ("/registry/secrets/default/s-" + i).getBytes(StandardCharsets.UTF_8);
            kv.put(ByteSequence.from(key), ByteSequence.from(old.seal(("k8s\0secret-" + i)
                    .getBytes(StandardCharsets.ISO_8859_1), key))).get(10, TimeUnit.SECONDS);
        }

        Run plan = haRotate(restartBySync(), "--dry-run");
        assertEquals(0, plan.exitCode(), plan.output());
        assertTrue(plan.output().startsWith("plan from stage start, for node-1 node-2 node-3 (--dry-run"), plan.output());
        assertTrue(plan.output().contains("  1. secrets-encrypt prepare ") && plan.output().contains("  3. secrets-encrypt "
                + "rotate ") && plan.output().contains("  5. secrets-encrypt reencrypt "), plan.output());
        assertEquals("start", stage(), "--dry-run changed the stage");

        Run run = haRotate(restartBySync());
        assertEquals(0, run.exitCode(), run.output());
        System.out.println("ha-rotate.sh:\n" + run.output());
        String out = run.output();
        for (String stage : List.of("prepare", "rotate", "reencrypt_finished")) {
            for (String server : SERVERS) {
                assertTrue(out.matches("(?s).*  " + server + " loaded it: " + stage + "-[0-9a-f]{64}\n.*"),
                        server + " did not load the " + stage + " config:\n" + out);
            }
        }
        // one at a time, in order: node-2 restarts only after node-1 reported
        assertTrue(out.indexOf("node-1 loaded it: prepare-") < out.indexOf("restarting node-2"), out);
        assertTrue(out.endsWith("done: stage reencrypt_finished, every server loaded the final config\n"), out);
        assertEquals("reencrypt_finished", stage());

        byte[] first = Files.readAllBytes(file("node-1"));
        for (String server : SERVERS) {
            assertArrayEquals(first, Files.readAllBytes(file(server)), server + " has another file");
        }
        Envelope now = writer();
        assertFalse(now.description().equals(old.description()), "the key that writes did not change");
        for (int i = 0; i < 20; i++) {
            byte[] stored = kv.get(bytes("/registry/secrets/default/s-" + i)).get(10, TimeUnit.SECONDS).getKvs().get(0)
                    .getValue().getBytes();
            assertTrue(new String(stored, StandardCharsets.ISO_8859_1).startsWith(new String(now.prefix(),
                    StandardCharsets.ISO_8859_1)), "s-" + i + " is not under the new key");
        }
        Run verify = tool("node-3", "verify");
        assertEquals(0, verify.exitCode(), verify.output());
    }

    @Test
    void aFailingRestartStopsItAndTheSameCommandContinuesOnceTheServerIsBack() throws Exception {
        // node-2 cannot be reached: its restart fails the way ssh does
        String broken = "if [ {node} = node-2 ]; then echo 'ssh: connect to host node-2 port 22: Connection refused' >&2; "
                + "exit 255; fi; " + restartBySync();
        Run stopped = haRotate(broken);
        assertEquals(1, stopped.exitCode(), stopped.output());
        assertTrue(stopped.output().contains("ssh: connect to host node-2 port 22: Connection refused"), stopped.output());
        assertTrue(stopped.output().contains("Error: the restart command for node-2 failed (exit 255): if [ node-2 = "
                + "node-2 ]"), stopped.output());
        assertTrue(stopped.output().contains("Fix it (or restart node-2 by hand), then run this script again with the "
                + "same arguments: it continues from stage prepare.\n"), stopped.output());
        assertFalse(stopped.output().contains("restarting node-3"), "it went on past the failure:\n" + stopped.output());
        assertEquals("prepare", stage());

        // a restart that never brings the server's report: the wait is bounded
        Run waited = haRotate("true {node}", "--timeout", "3s");
        assertEquals(1, waited.exitCode(), waited.output());
        assertTrue(waited.output().contains("  node-1 already loaded it: prepare-"), waited.output());
        assertTrue(waited.output().contains("Error: node-2 did not report the new config within 3s of its restart "
                + "(its report: start-"), waited.output());
        assertTrue(waited.output().contains("then run this script again with the same arguments: it continues from "
                + "stage prepare.\n"), waited.output());

        Run resumed = haRotate(restartBySync());
        assertEquals(0, resumed.exitCode(), resumed.output());
        assertTrue(resumed.output().startsWith("stage prepare; servers node-1 node-2 node-3\n"), resumed.output());
        assertTrue(resumed.output().contains("  node-1 already loaded it: prepare-"), resumed.output());
        assertFalse(resumed.output().contains("secrets-encrypt prepare\n"), "prepare ran twice:\n" + resumed.output());
        assertEquals("reencrypt_finished", stage());

        Run usage = haRotate("ssh server systemctl restart k3s");
        assertEquals(2, usage.exitCode(), usage.output());
        assertTrue(usage.output().startsWith("Error: --restart 'ssh server systemctl restart k3s' has no {node}"),
                usage.output());
    }

    /** What the sync drop-in's ExecStartPre does when that server restarts. */
    String restartBySync() {
        return "secrets-encrypt sync -d '" + tmp + "/{node}' --node-name {node} " + String.join(" ", cluster());
    }

    List<String> cluster() {
        return List.of("--endpoints", etcd.endpoint(0), "--token-file", token.toString());
    }

    Run haRotate(String restart, String... more) throws Exception {
        List<String> command = new ArrayList<>(List.of(SCRIPT.toString(), "--restart", restart, "--poll", "0.2",
                "--timeout", "60s"));
        command.addAll(List.of(more));
        command.addAll(SERVERS);
        command.addAll(List.of("--", "-d", tmp.resolve("node-1").toString(), "--node-name", "node-1"));
        command.addAll(cluster());
        return run(command);
    }

    Run tool(String server, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(bin.resolve("secrets-encrypt").toString()));
        command.addAll(List.of(args));
        command.addAll(List.of("-d", tmp.resolve(server).toString(), "--node-name", server));
        command.addAll(cluster());
        return run(command);
    }

    String stage() throws Exception {
        Run status = tool("node-1", "status", "-o", "json");
        assertEquals(0, status.exitCode(), status.output());
        JsonNode json = new ObjectMapper().readTree(status.output());
        return json.get("stage").asText();
    }

    Path file(String server) {
        return tmp.resolve(server).resolve("encryption-config.json");
    }

    Envelope writer() throws Exception {
        return ProviderChain.of(ConfigFiles.read(file("node-1")).secretsRule().orElseThrow().providers()).writer();
    }

    Run run(List<String> command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().put("PATH", bin + File.pathSeparator + System.getenv("PATH"));
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(5, TimeUnit.MINUTES), String.join(" ", command) + " did not finish in 5 min");
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.ISO_8859_1);
    }
}
