package dev.secretsencrypt.reencrypt;

import static java.nio.charset.StandardCharsets.UTF_8;

import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.testing.EtcdCluster;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** The shared test etcd, seen through a root of its own ({@code /t-<uuid>/registry}) that close() deletes. */
final class SeededEtcd implements AutoCloseable {
    final KV kv;
    final String root;
    private final String top;

    private SeededEtcd() {
        this.kv = EtcdCluster.shared().client().getKVClient();
        this.top = "/t-" + UUID.randomUUID();
        this.root = top + "/registry";
    }

    static SeededEtcd open() {
        return new SeededEtcd();
    }

    /** kube-apiserver's protobuf magic followed by random bytes. */
    static byte[] plaintext(Random random, int length) {
        byte[] value = new byte[length];
        random.nextBytes(value);
        System.arraycopy("k8s\0".getBytes(UTF_8), 0, value, 0, Math.min(4, length));
        return value;
    }

    byte[] seal(Envelope envelope, String key, byte[] plaintext) {
        return envelope.seal(plaintext, key.getBytes(UTF_8));
    }

    void put(String key, byte[] value) throws Exception {
        kv.put(bytes(key), ByteSequence.from(value)).get(10, TimeUnit.SECONDS);
    }

    void put(String key, byte[] value, long lease) throws Exception {
        kv.put(bytes(key), ByteSequence.from(value), PutOption.builder().withLeaseId(lease).build())
                .get(10, TimeUnit.SECONDS);
    }

    void putAll(Map<String, byte[]> values) throws Exception {
        List<CompletableFuture<?>> puts = new ArrayList<>();
        values.forEach((k, v) -> puts.add(kv.put(bytes(k), ByteSequence.from(v))));
        CompletableFuture.allOf(puts.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
    }

    KeyValue get(String key) throws Exception {
        List<KeyValue> found = kv.get(bytes(key)).get(10, TimeUnit.SECONDS).getKvs();
        return found.isEmpty() ? null : found.get(0);
    }

    /** Every key under {@code prefix}, in key order. */
    List<KeyValue> all(String prefix) throws Exception {
        return kv.get(bytes(prefix), GetOption.builder().isPrefix(true).build()).get(30, TimeUnit.SECONDS).getKvs();
    }

    static ByteSequence bytes(String text) {
        return ByteSequence.from(text, UTF_8);
    }

    @Override
    public void close() throws Exception {
        kv.delete(bytes(top + "/"), DeleteOption.builder().isPrefix(true).build()).get(30, TimeUnit.SECONDS);
    }
}
