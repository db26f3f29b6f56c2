package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.testing.TestDatastore;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.options.GetOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A mistyped --state-prefix on a server whose data dir belongs to a cluster: every command is refused naming the
 * prefix its cluster uses, before it reads a made-up state or writes anything under the wrong prefix.
 */
@Tag("etcd")
class StatePrefixTest {
    @TempDir
    Path tmp;
    final Cli cli = new Cli();
    final TestDatastore etcd = TestDatastore.shared();
    String statePrefix;
    String wrongPrefix;

    @BeforeEach
    void isolate() throws Exception {
        String run = UUID.randomUUID().toString();
        statePrefix = "/se-" + run + "/";
        wrongPrefix = "/nosuch-" + run + "/";
        Cli.writeToken(tmp.resolve("token"), "token-" + run);
    }

    Cli.Result se(String prefix, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("-d", tmp.resolve("node-1").toString(), "--node-name", "node-1", "--endpoints",
                etcd.endpointsCsv(), "--token-file", tmp.resolve("token").toString(), "--state-prefix", prefix));
        return cli.run(all.toArray(String[]::new));
    }

    @Test
    void aWrongStatePrefixIsRefusedNamingTheClustersOwnAndWritesNothingUnderIt() throws Exception {
        assertEquals(0, se(statePrefix, "enable").exitCode());
        assertEquals(0, se(statePrefix, "sync").exitCode());
        for (String command : List.of("status", "enable", "prepare", "sync", "nodes", "verify")) {
            Cli.Result wrong = se(wrongPrefix, command);
            System.out.println(command + " --state-prefix " + wrongPrefix + ":\n" + wrong.all());
            assertEquals(1, wrong.exitCode(), wrong.all());
            assertTrue(wrong.err().startsWith("Error: the data dir " + tmp.resolve("node-1") + " belongs to the cluster "),
                    wrong.err());
            // named as the data dir records it: without the trailing slash
            String own = statePrefix.substring(0, statePrefix.length() - 1);
            assertTrue(wrong.err().contains("whose state is under --state-prefix " + own + " (at "
                    + etcd.endpointsCsv() + "), not " + wrongPrefix.substring(0, wrongPrefix.length() - 1) + ": run "
                    + "the command with --state-prefix " + own + " "), wrong.err());
            assertEquals("", wrong.out(), "no made-up state: " + wrong.out());
        }
        long written = etcd.client().getKVClient().get(ByteSequence.from(wrongPrefix, StandardCharsets.UTF_8),
                GetOption.builder().isPrefix(true).withCountOnly(true).build()).get(10, TimeUnit.SECONDS).getCount();
        assertEquals(0, written, "nothing written under " + wrongPrefix);
        assertTrue(se(statePrefix, "status").out().contains("Current Rotation Stage: start"));
    }
}
