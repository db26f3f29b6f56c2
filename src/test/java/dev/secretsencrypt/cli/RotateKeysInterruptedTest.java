package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.envelope.Envelope;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** rotate-keys stopped (SIGTERM, as Ctrl-C) during its re-encryption pass: run again, it resumes the pass. */
@Tag("cluster")
class RotateKeysInterruptedTest {
    static final int SECRETS = 20_000;

    @TempDir
    Path tmp;
    SimulatedServers servers;

    @BeforeEach
    void oneServer() throws Exception {
        servers = new SimulatedServers(tmp);
    }

    Cli.Result se(String... command) {
        return servers.on("node-1", command);
    }

    @Test
    void rotateKeysStoppedInAWaitSaysTheStageAndTheCommandThatContinues() throws Exception {
        servers.putDefaultNamespace();
        assertEquals(0, se("enable").exitCode());
        assertEquals(0, se("sync").exitCode());
        // nobody restarts the server: rotate-keys waits after prepare until it is stopped
        Process child = servers.child("node-1", "rotate-keys", "--timeout", "5m", "--poll-interval-ms", "100")
                .redirectErrorStream(true).redirectOutput(tmp.resolve("wait.log").toFile()).start();
        Path log = tmp.resolve("wait.log");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline && child.isAlive()
                && !(Files.exists(log) && Files.readString(log).contains("waiting up to 5m"))) {
            Thread.sleep(50);
        }
        child.destroy(); // SIGTERM, as Ctrl-C's SIGINT
        assertTrue(child.waitFor(20, TimeUnit.SECONDS));
        String out = Files.readString(log);
        System.out.println("rotate-keys stopped in its first wait:\n" + out);
        assertTrue(out.contains("step 1/4 prepare"), out);
        assertTrue(out.strip().endsWith("rotate-keys stopped at stage prepare, waiting for every server to load the "
                + "prepared config (stage prepare): every step it finished is stored; run rotate-keys again (on any "
                + "server) to continue from there"), out);
        assertTrue(se("status").out().contains("Current Rotation Stage: prepare"));
    }

    @Test
    void rotateKeysStoppedDuringTheReencryptionResumesThePassWhenRunAgain() throws Exception {
        servers.putDefaultNamespace();
        assertEquals(0, se("enable").exitCode());
        Envelope old = servers.chain("node-1").writer();
        servers.seedSecrets(SECRETS, old, new HashMap<>());
        // the one server "restarts" every 200 ms, as an operator following rotate-keys' prompts would
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService server = Executors.newSingleThreadExecutor();
        Cli own = new Cli();
        server.submit(() -> {
            while (!stop.get()) {
                Thread.sleep(200); // the point: the server restarts every 200 ms, as an operator follows the prompts
                own.run(servers.args("node-1", "sync").toArray(String[]::new));
            }
            return null;
        });
        try {
            Process child = servers.child("node-1", "rotate-keys", "--timeout", "60s", "--poll-interval-ms", "100")
                    .redirectErrorStream(true)
                    .redirectOutput(tmp.resolve("child.log").toFile()).start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            long doneAtStop = 0;
            while (System.nanoTime() < deadline && child.isAlive() && doneAtStop == 0) {
                doneAtStop = servers.checkpointDone();
                Thread.sleep(5); // the point: the interrupt lands mid-pass, right after its first checkpoint
            }
            child.destroy(); // SIGTERM, as Ctrl-C's SIGINT
            assertTrue(child.waitFor(20, TimeUnit.SECONDS));
            String first = Files.readString(tmp.resolve("child.log"));
            assertTrue(doneAtStop > 0 && doneAtStop < SECRETS, "stopped midway, at " + doneAtStop + ": " + first);
            assertTrue(first.contains("step 2/4 rotate") && !first.contains("step 3/4"), first);
            assertTrue(first.contains("rotate-keys stopped during its re-encryption pass (stage reencrypt_active): "
                    + "every step it finished is stored; run rotate-keys again (on any server) to continue from there"),
                    first);
            assertTrue(se("status").out().contains("Current Rotation Stage: reencrypt_active"));

            Cli.Result resumed = se("rotate-keys", "--timeout", "60s", "--poll-interval-ms", "100");
            assertEquals(0, resumed.exitCode(), resumed.all());
            String out = resumed.out();
            assertTrue(out.startsWith("continuing the rotation from stage reencrypt_active\n"
                    + "step 3/4 reencrypt: resumed from its checkpoint"), out);
            assertTrue(out.contains("retired aescbc/aescbckey"), out);
            assertTrue(out.contains("rotate-keys done: every server loaded the final config"), out);
            System.out.println("first run (stopped during the pass):\n" + first + "\nsecond run:\n" + out);
        } finally {
            stop.set(true);
            server.shutdown();
            assertTrue(server.awaitTermination(60, TimeUnit.SECONDS));
        }
        assertEquals(0, se("verify").exitCode());
    }
}
