package dev.secretsencrypt.store;

import static dev.secretsencrypt.store.EtcdCalls.bytes;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.secretsencrypt.rotation.NodeReport;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.kv.TxnResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The servers of a cluster in etcd: each one's report ({@code <stage>-<hash>}), its record (who reported, when, from
 * what, for which kube-apiserver) and, while its agent runs, a key on that agent's lease; the cluster's id.
 */
final class EtcdServers implements ServerReports, ServerRegistry {
    // records written by a newer version (more fields) still read here
    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final EtcdCalls etcd;
    private final StateKeys keys;

    EtcdServers(EtcdCalls etcd, StateKeys keys) {
        this.etcd = etcd;
        this.keys = keys;
    }

    /**
     * A server record as stored: plain JSON text, no key material; {@code agent} absent in a sync's record,
     * {@code apiserver} (its identity lease's name) absent in one written before reports named it.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record StoredRecord(String instanceId, String reportedAt, String source, Boolean agent, String apiserver) {
    }

    /** What a running agent's lease key holds: what it reads, and what keeps it from reporting (no key material). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    record StoredAlive(String reads, String problem) {
    }

    @Override
    public void report(NodeReport report) {
        etcd.awaitRetrying(() -> etcd.kv.put(bytes(keys.reports() + report.node()), bytes(report.value())),
                "write this node's report");
    }

    @Override
    public List<NodeReport> reports() {
        GetResponse reports = etcd.under(keys.reports(), "read node reports");
        // at the reports' revision, so a report and the lease key that keeps it alive are seen at one moment (reads,
        // not one multi-read transaction: kine takes no such transaction)
        long at = reports.getHeader().getRevision();
        GetOption all = GetOption.builder().isPrefix(true).withRevision(at).build();
        Map<String, ServerRecord> records = parseRecords(etcd.awaitRetrying(() -> etcd.kv.get(bytes(keys.records()),
                all), "read node reports"));
        Set<String> kept = new HashSet<>();
        etcd.awaitRetrying(() -> etcd.kv.get(bytes(keys.alive()), all), "read node reports").getKvs()
                .forEach(k -> kept.add(StateKeys.nodeOf(text(k.getKey()), keys.alive())));
        List<NodeReport> out = new ArrayList<>();
        for (KeyValue kvp : reports.getKvs()) {
            String node = StateKeys.nodeOf(text(kvp.getKey()), keys.reports());
            NodeReport report = NodeReport.parse(node, text(kvp.getValue()));
            boolean byAgent = Optional.ofNullable(records.get(node)).filter(r -> r.reporter() == Reporter.AGENT).isPresent();
            out.add(byAgent && !kept.contains(node) ? report.asStale() : report);
        }
        return out;
    }

    @Override
    public String clusterId() {
        ByteSequence key = bytes(keys.clusterId());
        GetResponse got = etcd.awaitRetrying(() -> etcd.kv.get(key), "read the cluster id");
        if (!got.getKvs().isEmpty()) {
            return text(got.getKvs().get(0).getValue());
        }
        // made once, by whichever server asks first: the CAS keeps one id even when two ask at once
        String fresh = UUID.randomUUID().toString();
        TxnResponse made = etcd.await(etcd.kv.txn().If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(0)))
                .Then(Op.put(key, bytes(fresh), PutOption.DEFAULT)).Else(Op.get(key, GetOption.DEFAULT)).commit(),
                "store the cluster id");
        if (made.isSucceeded()) {
            return fresh;
        }
        return text(made.getGetResponses().get(0).getKvs().get(0).getValue());
    }

    @Override
    public Map<String, ServerRecord> records() {
        return parseRecords(etcd.under(keys.records(), "read the server records"));
    }

    private Map<String, ServerRecord> parseRecords(GetResponse got) {
        Map<String, ServerRecord> out = new TreeMap<>();
        for (KeyValue kvp : got.getKvs()) {
            try {
                StoredRecord r = JSON.readValue(kvp.getValue().getBytes(), StoredRecord.class);
                out.put(StateKeys.nodeOf(text(kvp.getKey()), keys.records()), new ServerRecord(r.instanceId(),
                        Instant.parse(r.reportedAt()), Source.parse(r.source()),
                        Boolean.TRUE.equals(r.agent()) ? Reporter.AGENT : Reporter.SYNC,
                        Optional.ofNullable(r.apiserver())));
            } catch (IOException | RuntimeException damaged) {
                // a damaged record only loses the instance check and the age: the report itself still counts
            }
        }
        return out;
    }

    @Override
    public void record(String node, ServerRecord record) {
        StoredRecord stored = new StoredRecord(record.instanceId(), record.reportedAt().toString(),
                record.source().text(), record.reporter() == Reporter.AGENT ? Boolean.TRUE : null,
                record.apiserver().orElse(null));
        etcd.awaitRetrying(() -> etcd.kv.put(bytes(keys.records() + node), ByteSequence.from(json(stored))),
                "write this server's record");
    }

    @Override
    public boolean forget(String node) {
        boolean report = etcd.delete(keys.reports() + node, "remove the report of " + node);
        boolean record = etcd.delete(keys.records() + node, "remove the record of " + node);
        etcd.delete(keys.alive() + node, "remove the lease key of " + node);
        // its finding of a retired key stays: the values its apiserver wrote are still there until a pass
        return report || record;
    }

    @Override
    public ReportLease keepReportsAlive(String node, Duration ttl, Source reads) {
        if (etcd.kind() == DatastoreKind.KINE) {
            return keptByRewrites(node, ttl, reads);
        }
        Lease leases = etcd.client.getLeaseClient();
        long lease = etcd.await(leases.grant(ttl.toSeconds()), "grant the report lease of " + node).getID();
        ByteSequence key = bytes(keys.alive() + node);
        PutOption onLease = PutOption.builder().withLeaseId(lease).build();
        etcd.awaitRetrying(() -> etcd.kv.put(key, ByteSequence.from(json(new StoredAlive(reads.text(), null))), onLease),
                "keep the report of " + node + " alive");
        LeaseOwnership owned = new LeaseOwnership(leases, lease, ttl);
        return new ReportLease() {
            @Override
            public void tell(Optional<String> problem) {
                // a put without its lease would detach the key from the agent's life
                etcd.awaitRetrying(() -> etcd.kv.put(key, ByteSequence.from(json(new StoredAlive(reads.text(),
                        problem.orElse(null)))), onLease), "publish the agent's state of " + node);
            }

            @Override
            public boolean lost() {
                return owned.lost();
            }

            @Override
            public void close() {
                owned.close();
            }
        };
    }

    /** On kine: the alive key written again before its time to live runs out, the problem told by the same CAS. */
    private ReportLease keptByRewrites(String node, Duration ttl, Source reads) {
        TtlKey alive = TtlKey.take(etcd, keys.alive() + node, json(new StoredAlive(reads.text(), null)), ttl,
                "keep the report of " + node + " alive");
        return new ReportLease() {
            @Override
            public void tell(Optional<String> problem) {
                alive.update(json(new StoredAlive(reads.text(), problem.orElse(null))));
            }

            @Override
            public boolean lost() {
                return alive.lost();
            }

            @Override
            public String datastore() {
                return DatastoreKind.KINE.text();
            }

            @Override
            public void close() {
                alive.close();
            }
        };
    }

    @Override
    public Map<String, RunningAgent> runningAgents() {
        Map<String, RunningAgent> out = new TreeMap<>();
        for (KeyValue k : etcd.under(keys.alive(), "read which agents run").getKvs()) {
            out.put(StateKeys.nodeOf(text(k.getKey()), keys.alive()), runningAgent(text(k.getValue())));
        }
        return out;
    }

    /** An alive key as this version writes it (JSON), or as older versions did (the plain source word). */
    private static RunningAgent runningAgent(String text) {
        try {
            if (text.startsWith("{")) {
                StoredAlive a = JSON.readValue(text, StoredAlive.class);
                return new RunningAgent(Source.parse(a.reads()), Optional.ofNullable(a.problem()));
            }
        } catch (IOException damaged) {
            // read as the plain word below: what it reads is what the checks need
        }
        return new RunningAgent(Source.parse(text), Optional.empty());
    }

    private static String text(ByteSequence bytes) {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static byte[] json(Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
