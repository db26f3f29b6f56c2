package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.envelope.Envelope;
import java.io.BufferedReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * rotate-keys killed with SIGKILL (no shutdown hook, no lease revoked) at each boundary between its steps, on three
 * servers simulated on one machine: after each kill status shows the stored stage, verify finds every value readable,
 * and rotate-keys run again continues from that stage to reencrypt_finished with every value under the new key.
 * The kills are triggered by the lines the child prints, the "restarts" (syncs) by its "waiting" lines.
 */
@Tag("cluster")
class RotateKeysKilledTest {
    static final List<String> SERVERS = List.of("node-1", "node-2", "node-3");
    static final int FEW = 30;
    static final int MANY = 20_000; // twenty pages of a thousand: the kill lands inside the pass
    static final String[] ROTATE_KEYS = {"rotate-keys", "--timeout", "60s", "--poll-interval-ms", "50"};

    @TempDir
    Path tmp;
    SimulatedServers servers;
    Envelope old;
    final Map<String, byte[]> plain = new HashMap<>();
    /** Every key secret the servers' files held: none may be printed by any run. */
    final Set<String> keySecrets = new HashSet<>();
    final StringBuilder printed = new StringBuilder();

    @BeforeEach
    void threeServers() throws Exception {
        servers = new SimulatedServers(tmp);
    }

    @Test
    void killedRightAfterPrepareContinuesFromStagePrepare() throws Exception {
        String log = killedAt(FEW, line -> line.startsWith("step 1/4 prepare"), null);
        assertFalse(log.contains("loaded the prepared config"), log);
        afterTheKill("prepare");
    }

    @Test
    void killedWhileWaitingForServersToLoadThePreparedConfigContinuesFromStagePrepare() throws Exception {
        String log = killedAt(FEW, line -> line.startsWith("  node-2 loaded the prepared config"), "prepared config");
        assertFalse(log.contains("step 2/4"), log);
        afterTheKill("prepare");
    }

    @Test
    void killedWhileWaitingForServersToLoadTheRotatedConfigContinuesFromStageRotate() throws Exception {
        String log = killedAt(FEW, line -> line.startsWith("  node-2 loaded the rotated config"), "rotated config");
        assertTrue(log.contains("step 2/4 rotate") && !log.contains("step 3/4"), log);
        afterTheKill("rotate");
    }

    @Test
    void killedMidReencryptionContinuesThePassFromItsCheckpoint() throws Exception {
        String log = killedAt(MANY, line -> line.startsWith("every server (3) loaded the rotated config"), null);
        assertFalse(log.contains("step 3/4"), log);
        String resumed = afterTheKill("reencrypt_active");
        // the killed pass still holds its lease (SIGKILL revokes nothing): the second run waits it out, then resumes
        assertTrue(resumed.startsWith("continuing the rotation from stage reencrypt_active\nwaiting up to 1m for the "
                + "re-encryption on node-1 to finish or its lease to lapse"), resumed);
        assertTrue(resumed.contains("step 3/4 reencrypt: resumed from its checkpoint"), resumed);
    }

    @Test
    void killedWhileWaitingForServersToLoadTheFinalConfigContinuesFromStageReencryptFinished() throws Exception {
        String log = killedAt(FEW, line -> line.startsWith("  node-2 loaded the final config"), "final config");
        assertTrue(log.contains("step 3/4 reencrypt") && log.contains("retired aescbc/"), log);
        String resumed = afterTheKill("reencrypt_finished");
        assertFalse(resumed.contains("step 1/4"), "no new rotation begins: " + resumed);
    }

    /**
     * Seeds {@code secrets} values under the enabled key, runs rotate-keys on node-1 in a child JVM and reads its lines:
     * at each "waiting" line every server restarts (syncs), except at the wait for {@code partialWait} where only node-2
     * does; the child is killed at the line {@code killAt} accepts (with many values: once its pass saved a checkpoint).
     * Returns what the child printed.
     */
    String killedAt(int secrets, Predicate<String> killAt, String partialWait) throws Exception {
        seeded(secrets);
        Process child = servers.child("node-1", ROTATE_KEYS).redirectErrorStream(true).start();
        StringBuilder log = new StringBuilder();
        boolean killed = false;
        try (BufferedReader lines = child.inputReader(StandardCharsets.UTF_8)) {
            String line;
            while (!killed && (line = lines.readLine()) != null) {
                log.append(line).append('\n');
                if (killAt.test(line)) {
                    if (secrets == MANY) {
                        awaitFirstCheckpoint(child, log);
                    }
                    child.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, no lease revoked, no cleanup
                    killed = true;
                } else if (line.startsWith("waiting up to")) {
                    syncServers(partialWait != null && line.contains(partialWait) ? List.of("node-2") : SERVERS);
                }
            }
        }
        assertTrue(killed, "the child never printed the line to kill it at:\n" + log);
        assertTrue(child.waitFor(10, TimeUnit.SECONDS));
        assertEquals(128 + 9, child.exitValue(), "killed by SIGKILL");
        printed.append(log);
        System.out.println("killed rotate-keys:\n" + log);
        return log.toString();
    }

    /** Kills land inside the pass, not before it: the first page's checkpoint is stored, and not the last. */
    void awaitFirstCheckpoint(Process child, StringBuilder log) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        long done = 0;
        while (done == 0 && child.isAlive() && System.nanoTime() < deadline) {
            done = servers.checkpointDone();
            Thread.sleep(5); // the point: the kill lands inside the pass, right after its first checkpoint
        }
        assertTrue(done > 0 && done < MANY, "killed inside the pass, at " + done + ":\n" + log);
    }

    /**
     * What an operator sees after the kill, then rotate-keys run again (the servers restart at its "waiting" lines):
     * it continues from the stored stage to the end. Returns the second run's output.
     */
    String afterTheKill(String storedStage) throws Exception {
        Cli.Result status = servers.on("node-2", "status");
        assertEquals(0, status.exitCode(), status.all());
        assertTrue(status.out().contains("Current Rotation Stage: " + storedStage + "\n"), status.out());
        Cli.Result verify = servers.on("node-3", "verify");
        // 3: some values still under the old key, as the stage says; never 1 (a value no key reads)
        assertTrue(verify.exitCode() == 0 || verify.exitCode() == 3, "no value is unreadable after the kill: "
                + verify.all());
        assertTrue(verify.out().contains("Unreadable values: 0"), verify.out());
        printed.append(status.all()).append(verify.all());

        Cli.Result resumed = resumedOnNode1();
        printed.append(resumed.all());
        System.out.println("rotate-keys run again:\n" + resumed.all());
        assertEquals(0, resumed.exitCode(), resumed.all());
        assertTrue(resumed.out().startsWith("continuing the rotation from stage " + storedStage), resumed.out());
        assertTrue(resumed.out().contains("rotate-keys done: every server loaded the final config"), resumed.out());

        Cli.Result finished = servers.on("node-2", "status");
        assertTrue(finished.out().contains("Current Rotation Stage: reencrypt_finished\n"), finished.out());
        Cli.Result verified = servers.on("node-3", "verify");
        assertEquals(0, verified.exitCode(), verified.all());
        everyValueUnderTheNewKey();
        rememberKeys();
        for (String secret : keySecrets) {
            assertFalse(printed.toString().contains(secret), "a key secret was printed");
        }
        return resumed.out();
    }

    /** rotate-keys on node-1 in this JVM; at each of its "waiting" lines every server restarts (syncs), on the side. */
    Cli.Result resumedOnNode1() throws Exception {
        ExecutorService restarts = Executors.newSingleThreadExecutor();
        Cli own = new Cli(); // Cli keeps what it printed in a plain list: one per thread
        StringWriter err = new StringWriter();
        LineWriter out = new LineWriter(line -> {
            if (line.startsWith("waiting up to")) {
                restarts.submit(() -> SERVERS.forEach(node -> own.run(servers.args(node, "sync").toArray(String[]::new))));
            }
        });
        int code;
        try {
            code = Main.run(servers.args("node-1", ROTATE_KEYS).toArray(String[]::new), new PrintWriter(out, true),
                    new PrintWriter(err, true), Map.of());
        } finally {
            restarts.shutdown();
            assertTrue(restarts.awaitTermination(60, TimeUnit.SECONDS));
        }
        own.printed.forEach(printed::append);
        return new Cli.Result(code, out.all.toString(), err.toString());
    }

    void syncServers(List<String> nodes) {
        for (String node : nodes) {
            Cli.Result r = servers.on(node, "sync");
            assertEquals(0, r.exitCode(), r.all());
        }
    }

    /** kube-apiserver's data (a namespace and {@code secrets} Secrets under the enabled key), every server synced. */
    void seeded(int secrets) throws Exception {
        servers.putDefaultNamespace();
        Cli.Result enabled = servers.on("node-1", "enable");
        assertEquals(0, enabled.exitCode(), enabled.all());
        syncServers(SERVERS);
        rememberKeys();
        old = servers.chain("node-1").writer();
        servers.seedSecrets(secrets, old, plain);
    }

    /** Every Secret is stored under the one key left in the servers' (identical) files, with its plaintext intact. */
    void everyValueUnderTheNewKey() throws Exception {
        servers.assertEveryValueUnderTheNewKey(SERVERS, old, plain);
    }

    void rememberKeys() throws Exception {
        for (String node : SERVERS) {
            if (Files.exists(servers.configFile(node))) {
                ConfigFiles.read(servers.configFile(node)).resources().forEach(rule -> rule.providers().forEach(p -> {
                    if (p instanceof KeyedProvider k) {
                        k.keys().forEach(key -> keySecrets.add(key.secret()));
                    }
                }));
            }
        }
        assertNotEquals(0, keySecrets.size());
    }

    /** Keeps what was written and hands each complete line to {@code onLine} as it is printed. */
    static final class LineWriter extends Writer {
        final StringBuilder all = new StringBuilder();
        private final StringBuilder line = new StringBuilder();
        private final Consumer<String> onLine;

        LineWriter(Consumer<String> onLine) {
            this.onLine = onLine;
        }

        @Override
        public synchronized void write(char[] chars, int off, int len) {
            for (int i = off; i < off + len; i++) {
                all.append(chars[i]);
                if (chars[i] == '\n') {
                    onLine.accept(line.toString());
                    line.setLength(0);
                } else {
                    line.append(chars[i]);
                }
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    }
}
