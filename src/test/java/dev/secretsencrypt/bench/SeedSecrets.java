package dev.secretsencrypt.bench;

import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.envelope.ProviderChain;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * Stores N Secrets the way kube-apiserver does with a given encryption-config.json (its writing key), for demos and
 * acceptance runs: {@code SeedSecrets <endpoints> <encryption-config.json> <N> [etcd-prefix]}.
 */
public final class SeedSecrets {
    private SeedSecrets() {
    }

    public static void main(String[] args) throws Exception {
        System.setProperty("slf4j.internal.verbosity", "ERROR"); // jetcd's "no SLF4J provider" notice is noise
        if (args.length < 3) {
            System.err.println("usage: SeedSecrets <endpoints> <encryption-config.json> <N> [etcd-prefix]");
            System.exit(2);
        }
        String prefix = args.length > 3 ? args[3] : "/registry";
        int n = Integer.parseInt(args[2]);
        Envelope writer = ProviderChain.of(ConfigFiles.read(Path.of(args[1])).secretsRule().orElseThrow().providers())
                .writer();
        Random random = new Random(n);
        try (Client client = Client.builder().endpoints(args[0].split(",")).build()) {
            KV kv = client.getKVClient();
            kv.put(ByteSequence.from(prefix + "/namespaces/default", StandardCharsets.UTF_8),
                    ByteSequence.from("k8s\0namespace default", StandardCharsets.ISO_8859_1)).get(30, TimeUnit.SECONDS);
            List<Op> batch = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String key = String.format("%s/secrets/team-%02d/secret-%06d", prefix, i % 40, i);
                byte[] plaintext = new byte[512 + random.nextInt(3584)];
                random.nextBytes(plaintext);
                System.arraycopy("k8s\0".getBytes(StandardCharsets.ISO_8859_1), 0, plaintext, 0, 4);
                byte[] k = key.getBytes(StandardCharsets.UTF_8);
                batch.add(Op.put(ByteSequence.from(k), ByteSequence.from(writer.seal(plaintext, k)), PutOption.DEFAULT));
                if (batch.size() == 100 || i == n - 1) {
                    kv.txn().Then(batch.toArray(Op[]::new)).commit().get(30, TimeUnit.SECONDS);
                    batch.clear();
                }
            }
        }
        System.out.println("seeded " + n + " Secrets under " + prefix + "/secrets/ with " + writer.description());
    }
}
