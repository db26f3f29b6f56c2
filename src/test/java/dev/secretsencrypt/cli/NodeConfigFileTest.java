package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.testing.TestDatastore;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The node configuration file: a bare command on a server node acts on the cluster; flags and environment win. */
@Tag("etcd")
@Tag("datastore")
class NodeConfigFileTest {
    @TempDir
    Path tmp;
    final Cli cli = new Cli();

    Path configFile(String yaml) throws IOException {
        Path file = tmp.resolve("config-" + UUID.randomUUID() + ".yaml");
        Files.writeString(file, yaml);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
        return file;
    }

    static void ok(Cli.Result r) {
        assertEquals(0, r.exitCode(), r.all());
    }

    @Test
    void aBareStatusWithEndpointsInTheConfigFileActsOnTheCluster() throws Exception {
        TestDatastore etcd = TestDatastore.shared();
        String statePrefix = "/test-" + UUID.randomUUID() + "/";
        Path token = tmp.resolve("token");
        Cli.writeToken(token, "config-file-token-" + UUID.randomUUID());
        ok(cli.run("enable", "-d", tmp.resolve("node-1").toString(), "--node-name", "node-1",
                "--endpoints", etcd.endpointsCsv(), "--token-file", token.toString(), "--state-prefix", statePrefix));
        ok(cli.run("sync", "-d", tmp.resolve("node-1").toString(), "--node-name", "node-1",
                "--endpoints", etcd.endpointsCsv(), "--token-file", token.toString(), "--state-prefix", statePrefix));
        StringBuilder list = new StringBuilder();
        java.util.Arrays.stream(etcd.endpointsCsv().split(",")).forEach(e -> list.append("  - ").append(e).append('\n'));
        Path config = configFile("# a server node's configuration\nendpoints:\n" + list + "token-file: " + token
                + "\nstate-prefix: " + statePrefix + "\nnode-name: node-2\netcd-timeout: 5\n");
        String node2 = tmp.resolve("node-2").toString();

        Cli.Result bare = cli.run("status", "-d", node2);
        assertTrue(bare.out().contains("Encryption Status: Disabled, no configuration file found"), bare.all());

        Cli.Result configured = cli.run("status", "-d", node2, "--config", config.toString());
        ok(configured);
        assertTrue(configured.out().contains("Encryption Status: Enabled"), configured.all());
        assertTrue(configured.out().contains("node-1  start-"), "the cluster's report of node-1: " + configured.out());

        Cli.Result fromEnvironment = cli.runWith(Map.of("SECRETS_ENCRYPT_CONFIG", config.toString()), "status", "-d", node2);
        ok(fromEnvironment);
        assertEquals(configured.out(), fromEnvironment.out());

        Path commaString = configFile("endpoints: " + etcd.endpointsCsv() + "\ntoken-file: " + token
                + "\nstate-prefix: " + statePrefix + "\n");
        Cli.Result csv = cli.run("--config=" + commaString, "status", "-d", node2);
        ok(csv);
        assertTrue(csv.out().contains("node-1  start-"), csv.all());
        assertFalse(Files.exists(tmp.resolve("node-2").resolve("encryption-config.json")), "status writes nothing");
    }

    @Test
    void aFlagBeatsTheEnvironmentWhichBeatsTheFileWhichBeatsTheDefault() throws Exception {
        Path enabled = tmp.resolve("enabled");
        ok(cli.run("enable", "-d", enabled.toString()));
        Path empty = tmp.resolve("empty");
        Path config = configFile("data-dir: " + enabled + "\n");
        String disabled = "Encryption Status: Disabled, no configuration file found";

        assertTrue(cli.run("status", "--config", config.toString()).out().contains("Encryption Status: Enabled"));
        Map<String, String> env = Map.of("SECRETS_ENCRYPT_DATA_DIR", empty.toString());
        assertTrue(cli.runWith(env, "status", "--config", config.toString()).out().contains(disabled),
                "the environment beats the file");
        Cli.Result flag = cli.runWith(env, "status", "--config", config.toString(), "-d", enabled.toString());
        assertTrue(flag.out().contains("Encryption Status: Enabled"), "the flag beats both: " + flag.all());
    }

    @Test
    void anUnknownKeyIsAUsageErrorNamingTheKeyAndTheFileNeverTheValue() throws Exception {
        Path config = configFile("data-dir: " + tmp.resolve("node") + "\nendpoint: s3cr3t-looking-value\n");
        Cli.Result r = cli.run("enable", "--config", config.toString());
        assertEquals(2, r.exitCode(), r.all());
        assertEquals("Error: the node configuration file " + config + " sets \"endpoint\", which is no option of "
                + "secrets-encrypt: use an option's long name without the dashes (see --help)\n", r.err());
        assertFalse(r.all().contains("s3cr3t"));
        assertFalse(Files.exists(tmp.resolve("node")), "nothing ran");
    }

    @Test
    void theTokenItselfIsRefusedInTheFileOnlyTheTokenFile() throws Exception {
        Path config = configFile("token: K10the-cluster-secret\n");
        Cli.Result r = cli.run("status", "-d", tmp.resolve("node").toString(), "--config", config.toString());
        assertEquals(2, r.exitCode(), r.all());
        assertTrue(r.err().contains("sets \"token\": a secret does not belong there; put the token in a file of "
                + "mode 600 and set \"token-file\" instead"), r.err());
        assertFalse(r.all().contains("the-cluster-secret"));
    }

    @Test
    void anOptionOfOneCommandIsAcceptedByEveryCommand() throws Exception {
        Path config = configFile("warn: 10d\noutput: JSON\n");
        Cli.Result r = cli.run("status", "-d", tmp.resolve("node").toString(), "--config", config.toString());
        ok(r);
        assertTrue(r.out().contains("\"stage\""), "output: JSON from the file, case-insensitive: " + r.out());
    }

    @Test
    void aMissingNamedFileIsAnErrorAndInvalidYamlNamesTheLine() throws Exception {
        Path missing = tmp.resolve("nowhere.yaml");
        Cli.Result r = cli.run("status", "--config", missing.toString());
        assertEquals(2, r.exitCode(), r.all());
        assertTrue(r.err().startsWith("Error: the node configuration file " + missing + " does not exist"), r.err());
        Cli.Result fromEnv = cli.runWith(Map.of("SECRETS_ENCRYPT_CONFIG", missing.toString()), "status");
        assertEquals(2, fromEnv.exitCode(), fromEnv.all());

        Path broken = configFile("data-dir: /x\nendpoints: [unclosed, s3cr3t\n");
        Cli.Result yaml = cli.run("status", "--config", broken.toString());
        assertEquals(2, yaml.exitCode(), yaml.all());
        assertTrue(yaml.err().contains(broken + " is not valid YAML (line "), yaml.err());
        assertFalse(yaml.all().contains("s3cr3t"));
    }

    @Test
    void aFileOthersCanWriteIsRefusedAndNothingRuns() throws Exception {
        Path node = tmp.resolve("node");
        Path config = configFile("data-dir: " + node + "\n");
        Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-rw-rw-"));
        Cli.Result r = cli.run("enable", "--config", config.toString());
        assertEquals(1, r.exitCode(), r.all());
        assertTrue(r.err().contains(config + " is writable by other users"), r.err());
        assertFalse(Files.exists(node), "nothing ran");
    }

    @Test
    void aBadValueInTheFileIsAUsageError() throws Exception {
        Path config = configFile("etcd-timeout: soon\nendpoints: [https://10.0.0.11:2379]\n");
        Cli.Result r = cli.run("status", "-d", tmp.resolve("node").toString(), "--config", config.toString());
        assertEquals(2, r.exitCode(), r.all());
        assertTrue(r.err().contains("'soon' is not a number of seconds of at least 1 (e.g. 5) (set by \"etcd-timeout\" "
                + "in the node configuration file " + config + ")"), r.err());
        Cli.Result env = cli.runWith(Map.of("ETCDCTL_ENDPOINTS", "10.0.0.11"), "status", "-d", tmp.resolve("node").toString());
        assertEquals(2, env.exitCode(), env.all());
        assertTrue(env.err().lines().findFirst().orElseThrow().endsWith("(set by the environment variable ETCDCTL_ENDPOINTS)"),
                env.err());
    }

    @Test
    void theShippedTemplateWithEveryExampleUncommentedIsAccepted() throws Exception {
        String template = Files.readString(Path.of("systemd/config.yaml"));
        String uncommented = template.replaceAll("(?m)^#(?=[a-z-]+:|  - )", "");
        assertTrue(uncommented.contains("\nendpoints:\n  - https://10.0.0.11:2379"), uncommented);
        Path config = configFile(uncommented);
        Cli.Result r = cli.run("status", "--config", config.toString(), "--etcd-timeout", "1");
        // past the file: the example token file or TLS files do not exist on a test machine
        assertEquals(1, r.exitCode(), r.all());
        assertFalse(r.err().contains("node configuration file"), r.err());
        assertTrue(r.err().contains("does not exist") || r.err().contains("no such file"), r.err());
    }

    @Test
    void theKeysAreTheLongOptionsOfEveryCommandButNeverTheToken() {
        java.util.Set<String> fromTheModel = new java.util.TreeSet<>();
        picocli.CommandLine full = new picocli.CommandLine(new Main());
        java.util.List<picocli.CommandLine> commands = new java.util.ArrayList<>(List.of(full));
        for (int i = 0; i < commands.size(); i++) {
            commands.get(i).getCommandSpec().options().forEach(o -> java.util.Arrays.stream(o.names())
                    .filter(n -> n.startsWith("--")).forEach(n -> fromTheModel.add(n.substring(2))));
            commands.addAll(commands.get(i).getSubcommands().values());
        }
        fromTheModel.removeAll(java.util.Set.of("token", "config", "help", "version"));
        assertEquals(fromTheModel, NodeConfigFile.knownKeys());
        assertTrue(NodeConfigFile.knownKeys().containsAll(List.of("endpoints", "cacert", "cert", "key", "token-file",
                "node-name", "data-dir", "etcd-prefix", "state-prefix", "etcd-timeout", "warn")));
    }
}
