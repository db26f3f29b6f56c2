package dev.secretsencrypt.store;

import static dev.secretsencrypt.store.EtcdCalls.bytes;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.DeleteOption;
import io.etcd.jetcd.options.GetOption;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** {@link RetiredKeysInUse} in etcd: one JSON key per server found with a retired writer (names, never secrets). */
final class EtcdFindings implements RetiredKeysInUse {
    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final EtcdCalls etcd;
    private final StateKeys keys;

    EtcdFindings(EtcdCalls etcd, StateKeys keys) {
        this.etcd = etcd;
        this.keys = keys;
    }

    /** A finding as stored: the keys' names (never their secrets), when, and where the file was. */
    record StoredFinding(List<String> keys, String foundAt, String file) {
    }

    @Override
    public void found(Finding finding) {
        byte[] stored;
        try {
            stored = JSON.writeValueAsBytes(new StoredFinding(finding.keys(), finding.foundAt().toString(), finding.file()));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        etcd.awaitRetrying(() -> etcd.kv.put(bytes(keys.findings() + finding.node()), ByteSequence.from(stored)),
                "record that " + finding.node() + " held a retired key");
    }

    @Override
    public List<Finding> findings() {
        List<Finding> out = new ArrayList<>();
        for (KeyValue k : etcd.under(keys.findings(), "read the retired keys found in use").getKvs()) {
            String node = StateKeys.nodeOf(k.getKey().toString(StandardCharsets.UTF_8), keys.findings());
            try {
                StoredFinding f = JSON.readValue(k.getValue().getBytes(), StoredFinding.class);
                out.add(new Finding(node, f.keys() == null ? List.of() : f.keys(), Instant.parse(f.foundAt()),
                        f.file() == null ? "" : f.file(), k.getModRevision()));
            } catch (IOException | RuntimeException damaged) {
                // still a finding: a damaged record must not hide that a retired key may be in use
                out.add(new Finding(node, List.of(), Instant.EPOCH, "", k.getModRevision()));
            }
        }
        return out;
    }

    @Override
    public void resolved(List<Finding> seen) {
        for (Finding f : seen) {
            ByteSequence key = bytes(keys.findings() + f.node());
            // a finding written again since it was read (the server came back once more) stays
            etcd.await(etcd.kv.txn().If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(f.revision())))
                    .Then(Op.delete(key, DeleteOption.DEFAULT)).Else(Op.get(key, GetOption.DEFAULT)).commit(),
                    "clear the finding of " + f.node());
        }
    }
}
