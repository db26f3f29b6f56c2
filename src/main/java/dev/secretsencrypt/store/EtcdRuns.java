package dev.secretsencrypt.store;

import static dev.secretsencrypt.store.EtcdCalls.bytes;

import dev.secretsencrypt.failure.AlreadyRunning;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;

/** The re-encryption's owner (a key on the owner's lease, taken by CAS) and its run record, in etcd. */
final class EtcdRuns implements PassOwnership, RunRecords {
    private final EtcdCalls etcd;
    private final StateKeys keys;

    EtcdRuns(EtcdCalls etcd, StateKeys keys) {
        this.etcd = etcd;
        this.keys = keys;
    }

    @Override
    public Optional<String> owner() {
        GetResponse got = etcd.awaitRetrying(() -> etcd.kv.get(bytes(keys.owner())), "read the re-encryption owner");
        return got.getKvs().stream().findFirst().map(k -> k.getValue().toString(StandardCharsets.UTF_8));
    }

    @Override
    public Ownership claim(String node, Duration ttl) {
        if (etcd.kind() == DatastoreKind.KINE) {
            // no lease to keep alive on kine: a key it deletes ttl after its last write, written again while held
            Optional<TtlKey> claimed = TtlKey.create(etcd, keys.owner(), node.getBytes(StandardCharsets.UTF_8), ttl,
                    "claim the re-encryption");
            return claimed.orElseThrow(() -> new AlreadyRunning(owner().orElse("another node"), ttl.toSeconds()));
        }
        Lease leases = etcd.client.getLeaseClient();
        long lease = etcd.await(leases.grant(ttl.toSeconds()), "grant the re-encryption lease").getID();
        ByteSequence ownerKey = bytes(keys.owner());
        TxnResponse claimed = etcd.await(etcd.kv.txn().If(new Cmp(ownerKey, Cmp.Op.EQUAL, CmpTarget.modRevision(0)))
                .Then(Op.put(ownerKey, bytes(node), PutOption.builder().withLeaseId(lease).build()))
                .Else(Op.get(ownerKey, GetOption.DEFAULT)).commit(), "claim the re-encryption");
        if (!claimed.isSucceeded()) {
            leases.revoke(lease);
            String holder = claimed.getGetResponses().stream().flatMap(g -> g.getKvs().stream()).findFirst()
                    .map(k -> k.getValue().toString(StandardCharsets.UTF_8)).orElse("another node");
            throw new AlreadyRunning(holder, ttl.toSeconds());
        }
        // revoking our lease deletes the owner key only while it is still ours: a successor's claim survives
        return new LeaseOwnership(leases, lease, ttl);
    }

    @Override
    public Optional<byte[]> runRecord() {
        GetResponse got = etcd.awaitRetrying(() -> etcd.kv.get(bytes(keys.runRecord())),
                "read the re-encryption checkpoint");
        return got.getKvs().stream().findFirst().map(k -> k.getValue().getBytes());
    }

    @Override
    public void saveRunRecord(byte[] json) {
        etcd.awaitRetrying(() -> etcd.kv.put(bytes(keys.runRecord()), ByteSequence.from(json)),
                "save the re-encryption checkpoint");
    }
}
