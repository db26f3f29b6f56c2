package dev.secretsencrypt.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.envelope.ProviderChain;
import dev.secretsencrypt.testing.EtcdCluster;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Servers simulated on one machine (a data dir and a node name each) against the JVM's shared etcd, under an etcd
 * prefix and a state prefix of their own so tests never see each other's data. A server's "restart" is its sync.
 */
final class SimulatedServers {
    final EtcdCluster etcd;
    final String run = UUID.randomUUID().toString();
    final String etcdPrefix = "/reg-" + run;
    final String statePrefix = "/se-" + run + "/";
    final Cli cli = new Cli();
    private final Path dir;

    /** In {@code dir} (a test's temp dir), with the cluster token file already written (0600). */
    SimulatedServers(Path dir) throws IOException {
        this(dir, EtcdCluster.shared());
    }

    /** On {@code etcd} (e.g. a three-member cluster of the test's own) instead of the JVM's shared one. */
    SimulatedServers(Path dir, EtcdCluster etcd) throws IOException {
        this.dir = dir;
        this.etcd = etcd;
        Cli.writeToken(dir.resolve("token"), "token-" + run);
    }

    /** The command line as an operator types it on {@code node}. */
    List<String> args(String node, String... command) {
        List<String> all = new ArrayList<>(List.of(command));
        all.addAll(List.of("-d", dir.resolve(node).toString(), "--node-name", node, "--endpoints", etcd.endpointsCsv(),
                "--token-file", dir.resolve("token").toString(), "--state-prefix", statePrefix,
                "--etcd-prefix", etcdPrefix));
        return all;
    }

    /** Runs the command in this JVM, as {@code node}. */
    Cli.Result on(String node, String... command) {
        return cli.run(args(node, command).toArray(String[]::new));
    }

    /** The command in a JVM of its own, as {@code node}: a process the test can kill. Not started yet. */
    ProcessBuilder child(String node, String... command) {
        List<String> all = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "dev.secretsencrypt.cli.Main"));
        all.addAll(args(node, command));
        return new ProcessBuilder(all);
    }

    Path configFile(String node) {
        return dir.resolve(node).resolve("encryption-config.json");
    }

    /** The providers of {@code node}'s file for Secrets, in its read order. */
    ProviderChain chain(String node) throws Exception {
        return ProviderChain.of(ConfigFiles.read(configFile(node)).secretsRule().orElseThrow().providers());
    }

    KV kv() {
        return etcd.client().getKVClient();
    }

    /** kube-apiserver's data exists once it stored its namespaces: every re-encryption checks for them. */
    void putDefaultNamespace() throws Exception {
        kv().put(ByteSequence.from(etcdPrefix + "/namespaces/default", StandardCharsets.UTF_8),
                ByteSequence.from("k8s\0namespace", StandardCharsets.ISO_8859_1)).get(10, TimeUnit.SECONDS);
    }

    /** Every value stored under {@code prefix}, in pages: one read of 20 000 values would pass gRPC's 4 MiB limit. */
    List<KeyValue> valuesUnder(String prefix) throws Exception {
        List<KeyValue> out = new ArrayList<>();
        ByteSequence end = ByteSequence.from(prefix.substring(0, prefix.length() - 1)
                + (char) (prefix.charAt(prefix.length() - 1) + 1), StandardCharsets.UTF_8); // "/a/" ends before "/a0"
        String from = prefix;
        while (true) {
            List<KeyValue> page = kv().get(ByteSequence.from(from, StandardCharsets.UTF_8),
                    GetOption.builder().withRange(end).withLimit(1000).build()).get(30, TimeUnit.SECONDS).getKvs();
            out.addAll(page);
            if (page.size() < 1000) {
                return out;
            }
            from = page.get(page.size() - 1).getKey().toString(StandardCharsets.UTF_8) + "\0";
        }
    }

    /** The re-encryption's run record (its checkpoint), absent before the first run. */
    Optional<JsonNode> runRecord() throws Exception {
        List<KeyValue> got = kv().get(ByteSequence.from(statePrefix + "reencrypt/run", StandardCharsets.UTF_8))
                .get(10, TimeUnit.SECONDS).getKvs();
        return got.isEmpty() ? Optional.empty() : Optional.of(new ObjectMapper().readTree(got.get(0).getValue().getBytes()));
    }

    /** How many values the run record says are done; 0 before the first page. */
    long checkpointDone() throws Exception {
        return runRecord().map(r -> r.path("checkpoint").path("done").asLong()).orElse(0L);
    }
}
