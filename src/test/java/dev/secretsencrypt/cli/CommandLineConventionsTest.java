package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.testing.EtcdCluster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What operators expect of a command line: options anywhere, short usage errors, etcdctl's endpoint forms. */
@Tag("etcd")
class CommandLineConventionsTest {
    @TempDir
    Path tmp;
    final Cli cli = new Cli();

    @Test
    void optionsAreAcceptedBeforeOrAfterTheCommand() {
        Path node = tmp.resolve("node");
        Cli.Result enable = cli.run("-d", node.toString(), "enable");
        assertEquals(0, enable.exitCode(), enable.all());
        assertTrue(Files.exists(node.resolve("encryption-config.json")), "-d before the command was used");
        Cli.Result before = cli.run("-d", node.toString(), "status");
        Cli.Result after = cli.run("status", "-d", node.toString());
        assertTrue(after.out().contains("Encryption Status: Enabled"), after.all());
        assertEquals(after.out(), before.out());
        Cli.Result both = cli.run("-d", tmp.resolve("elsewhere").toString(), "status", "-d", node.toString());
        assertEquals(after.out(), both.out(), "given after the command, it wins");
    }

    @Test
    void aUsageErrorIsOneLineAndTheCommandsShortUsage() {
        Cli.Result r = cli.run("status", "-d", tmp.toString(), "--no-such-option");
        assertEquals(2, r.exitCode(), r.all());
        List<String> lines = r.err().lines().toList();
        assertEquals(List.of("Error: Unknown option: '--no-such-option'", "Usage: secrets-encrypt status [OPTIONS]",
                "Run 'secrets-encrypt status --help' for more."), lines);
        assertEquals("", r.out());
        Cli.Result noCommand = cli.run();
        assertEquals(2, noCommand.exitCode(), noCommand.all());
        assertTrue(noCommand.err().lines().count() <= 3, noCommand.err());
        Cli.Result typo = cli.run("stauts", "-d", tmp.toString());
        assertEquals(2, typo.exitCode(), typo.all());
        assertTrue(typo.err().contains("status"), "a mistyped command is named: " + typo.err());
        assertTrue(typo.err().lines().count() <= 4, typo.err());
    }

    @Test
    void outputFormatsAreCaseInsensitive() {
        Cli.Result r = cli.run("status", "-d", tmp.toString(), "-o", "JSON");
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.out().startsWith("{"), r.out());
    }

    @Test
    void aBadEndpointOrTimeoutIsAOneLineUsageErrorAndNothingRuns() {
        Path node = tmp.resolve("node");
        for (String bad : List.of("10.0.0.11", "https//10.0.0.11:2379", "ftp://10.0.0.11:2379", "http://[::1:2379",
                "https://10.0.0.11:2379/v3")) {
            Cli.Result r = cli.run("enable", "-d", node.toString(), "--endpoints", bad);
            assertEquals(2, r.exitCode(), bad + ": " + r.all());
            String first = r.err().lines().findFirst().orElseThrow();
            assertTrue(first.startsWith("Error: Invalid value for option '--endpoints'"), first);
            assertFalse(r.err().contains("Exception"), r.err());
        }
        for (String bad : List.of("soon", "0", "-3", "99999999999")) {
            Cli.Result r = cli.run("enable", "-d", node.toString(), "--etcd-timeout", bad);
            assertEquals(2, r.exitCode(), bad + ": " + r.all());
            assertTrue(r.err().startsWith("Error: Invalid value for option '--etcd-timeout'"), r.err());
            assertFalse(r.err().contains("Exception"), r.err());
        }
        assertFalse(Files.exists(node), "nothing ran");
    }

    @Test
    void aBareHostAndPortIsPlainHttpWithoutTlsFilesAsEtcdctlTakesIt() throws Exception {
        EtcdCluster etcd = EtcdCluster.shared();
        Path token = tmp.resolve("token");
        Cli.writeToken(token, "bare-endpoint-" + UUID.randomUUID());
        String bare = etcd.endpoint(0).replaceFirst("^http://", "");
        Cli.Result r = cli.run("status", "-d", tmp.resolve("node").toString(), "--endpoints", bare, "--token-file",
                token.toString(), "--state-prefix", "/test-" + UUID.randomUUID() + "/");
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.out().startsWith("Encryption Status: "), r.out());
    }

    @Test
    void versionNamesTheVersionAndTheCommitItWasBuiltFrom() throws Exception {
        Process git = new ProcessBuilder("git", "rev-parse", "--short=12", "HEAD").redirectErrorStream(true).start();
        String head = new String(git.getInputStream().readAllBytes()).trim();
        String commit = git.waitFor() == 0 ? head : "unknown";
        Cli.Result r = cli.run("--version");
        assertEquals(0, r.exitCode(), r.all());
        List<String> lines = r.out().lines().toList();
        assertEquals("secrets-encrypt 0.1.0-SNAPSHOT", lines.get(0));
        assertTrue(lines.get(1).startsWith("commit " + commit), r.out());
    }
}
