package dev.secretsencrypt.cli;

import dev.secretsencrypt.testing.ChildJvm;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.envelope.ProviderChain;
import dev.secretsencrypt.testing.TestDatastore;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import dev.secretsencrypt.testing.SimulatedApiserver;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Servers simulated on one machine (a data dir and a node name each) against the JVM's shared etcd, under an etcd
 * prefix and a state prefix of their own so tests never see each other's data. A server's "restart" is its sync.
 */
final class SimulatedServers {
    final TestDatastore etcd;
    final String run = UUID.randomUUID().toString();
    final String etcdPrefix = "/reg-" + run;
    final String statePrefix = "/se-" + run + "/";
    final Cli cli = new Cli();
    private final Path dir;

    /** In {@code dir} (a test's temp dir), with the cluster token file already written (0600), on the JVM's shared
     * datastore ({@link TestDatastore#shared()}). */
    SimulatedServers(Path dir) throws IOException {
        this(dir, TestDatastore.shared());
    }

    /** On {@code etcd} (a three-member cluster of the test's own, or kine) instead of the JVM's shared etcd. */
    SimulatedServers(Path dir, TestDatastore etcd) throws IOException {
        this.dir = dir;
        this.etcd = etcd;
        Cli.writeToken(dir.resolve("token"), "token-" + run);
    }

    /**
     * The command line as an operator types it on {@code node}, whose kube-apiserver runs under the host name
     * {@code node} (as on a machine of its own).
     */
    List<String> args(String node, String... command) {
        List<String> all = new ArrayList<>(List.of(command));
        all.addAll(List.of("-d", dir.resolve(node).toString(), "--node-name", node, "--endpoints", etcd.endpointsCsv(),
                "--token-file", dir.resolve("token").toString(), "--state-prefix", statePrefix,
                "--etcd-prefix", etcdPrefix, "--apiserver-hostname", node));
        return all;
    }

    /**
     * {@code node}'s kube-apiserver, simulated: it serves the metrics of the host name {@code node} and renews its
     * identity lease under this run's etcd prefix, as a real one on that server would.
     */
    SimulatedApiserver apiserver(String node, SimulatedApiserver.Mode mode) {
        return SimulatedApiserver.start(configFile(node), mode, node).renewIdentityLease(kv(), etcdPrefix);
    }

    /** Runs the command in this JVM, as {@code node}. */
    Cli.Result on(String node, String... command) {
        return cli.run(args(node, command).toArray(String[]::new));
    }

    /** The command in a JVM of its own, as {@code node}: a process the test can kill. Not started yet. */
    ProcessBuilder child(String node, String... command) {
        return new ProcessBuilder(ChildJvm.command(args(node, command)));
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

    /**
     * Stores {@code count} Secrets (as kube-apiserver stores them, {@code k8s\0…}) sealed with {@code with}, numbered on
     * from those already in {@code plain}, which records each one's plaintext by etcd key.
     */
    void seedSecrets(int count, Envelope with, Map<String, byte[]> plain) throws Exception {
        List<Op> batch = new ArrayList<>();
        int start = plain.size();
        for (int i = start; i < start + count; i++) {
            String key = String.format("%s/secrets/ns-%02d/s-%05d", etcdPrefix, i % 10, i);
            byte[] value = ("k8s\0secret " + i).getBytes(StandardCharsets.ISO_8859_1);
            plain.put(key, value);
            byte[] k = key.getBytes(StandardCharsets.UTF_8);
            batch.add(Op.put(ByteSequence.from(k), ByteSequence.from(with.seal(value, k)), PutOption.DEFAULT));
            if (!etcd.multiKeyTransactions()) {
                // kine: a create per key, the one write it takes in a transaction
                ByteSequence key1 = ByteSequence.from(k);
                kv().txn().If(new Cmp(key1, Cmp.Op.EQUAL, CmpTarget.modRevision(0))).Then(batch.remove(0)).commit()
                        .get(30, TimeUnit.SECONDS);
                continue;
            }
            if (batch.size() == 100 || i == start + count - 1) {
                kv().txn().Then(batch.toArray(Op[]::new)).commit().get(30, TimeUnit.SECONDS);
                batch.clear();
            }
        }
    }

    /**
     * The servers' files are byte-identical with one aescbc key left, not {@code old}, and every Secret in
     * {@code plain} is stored under it and opens to its plaintext.
     */
    void assertEveryValueUnderTheNewKey(List<String> nodes, Envelope old, Map<String, byte[]> plain) throws Exception {
        byte[] file = Files.readAllBytes(configFile(nodes.get(0)));
        for (String node : nodes) {
            assertArrayEquals(file, Files.readAllBytes(configFile(node)), node + " has another file");
        }
        ProviderChain now = chain(nodes.get(0));
        assertEquals(1, now.readOrder().stream().filter(e -> e.description().startsWith("aescbc/")).count(),
                "the old key is retired: " + now.readOrder());
        String prefix = new String(now.writer().prefix(), StandardCharsets.UTF_8);
        assertTrue(prefix.startsWith("k8s:enc:aescbc:v1:") && !prefix.equals(new String(old.prefix(),
                StandardCharsets.UTF_8)), prefix);
        List<KeyValue> stored = valuesUnder(etcdPrefix + "/secrets/");
        assertEquals(plain.size(), stored.size());
        for (KeyValue kv : stored) {
            String key = kv.getKey().toString(StandardCharsets.UTF_8);
            assertTrue(kv.getValue().toString(StandardCharsets.ISO_8859_1).startsWith(prefix), key);
            assertArrayEquals(plain.get(key), now.open(kv.getValue().getBytes(), key.getBytes(StandardCharsets.UTF_8))
                    .plaintext(), key);
        }
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
