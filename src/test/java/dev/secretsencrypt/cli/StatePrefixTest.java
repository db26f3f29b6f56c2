package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.options.GetOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
    SimulatedServers servers;
    String statePrefix;
    String wrongPrefix;

    @BeforeEach
    void oneServer() throws Exception {
        servers = new SimulatedServers(tmp);
        statePrefix = servers.statePrefix;
        wrongPrefix = "/nosuch-" + servers.run + "/";
    }

    /** As node-1 types it, under {@code prefix} instead of the cluster's own. */
    Cli.Result se(String prefix, String... command) {
        List<String> all = new ArrayList<>(servers.args("node-1", command));
        all.set(all.indexOf("--state-prefix") + 1, prefix);
        return servers.cli.run(all.toArray(String[]::new));
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
                    + servers.etcd.endpointsCsv() + "), not " + wrongPrefix.substring(0, wrongPrefix.length() - 1) + ": run "
                    + "the command with --state-prefix " + own + " "), wrong.err());
            assertEquals("", wrong.out(), "no made-up state: " + wrong.out());
        }
        long written = servers.kv().get(ByteSequence.from(wrongPrefix, StandardCharsets.UTF_8),
                GetOption.builder().isPrefix(true).withCountOnly(true).build()).get(10, TimeUnit.SECONDS).getCount();
        assertEquals(0, written, "nothing written under " + wrongPrefix);
        assertTrue(se(statePrefix, "status").out().contains("Current Rotation Stage: start"));
    }
}
