package dev.secretsencrypt.store;

import dev.secretsencrypt.failure.AlreadyRunning;
import dev.secretsencrypt.failure.ChangedConcurrently;
import dev.secretsencrypt.failure.StateUnavailable;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.secretsencrypt.rotation.NodeReport;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
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
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * The cluster's truth in etcd under {@code <prefix>} ({@code /secrets-encrypt/}): {@code state} (the snapshot,
 * wrapped with the token), {@code kdf} (salt and parameters, not secret), {@code nodes/<name>} (each server's
 * {@code <stage>-<hash>}), {@code node-info/<name>} (who reported, when, from what) and {@code alive/<name>} (on the
 * lease of that server's agent, while it runs). The snapshot's revision is etcd's mod_revision of {@code state}: every change is a CAS.
 */
public final class EtcdState implements ClusterState, ReencryptionStore, ServerRegistry, DatastoreSnapshots,
        RetiredKeysInUse {
    // records written by a newer version (more fields) still read here
    private static final ObjectMapper JSON = new ObjectMapper()
            .disable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final Client client;
    private final KV kv;
    private final String prefix;
    private final char[] token;
    private final String endpoints;
    private final Duration timeout;
    private TokenWrap wrap;
    private boolean tokenCheckStored;
    private volatile boolean reached;

    public EtcdState(Client client, EtcdPrefix prefix, char[] token, String endpoints, Duration timeout) {
        this.client = client;
        this.kv = client.getKVClient();
        this.prefix = prefix.asDirectory();
        this.token = token.clone();
        this.endpoints = endpoints;
        this.timeout = timeout;
    }

    record KdfRecord(String kdf, int iterations, String salt) {
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

    private String stateKey() {
        return prefix + "state";
    }

    @Override
    public Optional<Snapshot> read() {
        GetResponse got = awaitRetrying(() -> kv.get(bytes(stateKey())), "read the rotation state");
        if (got.getKvs().isEmpty()) {
            return Optional.empty();
        }
        KeyValue stored = got.getKvs().get(0);
        TokenWrap wrapping = tokenWrap(false);
        byte[] plain;
        try {
            plain = wrapping.unwrap(stored.getValue().getBytes(), stateKey());
        } catch (TokenWrap.NotOpened e) {
            throw notOpened(wrapping);
        }
        return Optional.of(SnapshotCodec.decode(plain, stored.getModRevision(), "etcd " + stateKey()));
    }

    private String checkKey() {
        return prefix + "token-check";
    }

    /** Tells the operator which it is: another token, or a state changed since it was wrapped. */
    private StateUnavailable notOpened(TokenWrap wrapping) {
        GetResponse got = await(kv.get(bytes(checkKey())), "read the token check");
        String useTheToken = "use the token the cluster was enabled with (--token-file, SECRETS_ENCRYPT_TOKEN or "
                + "<data-dir>/token)";
        if (got.getKvs().isEmpty()) {
            return new StateUnavailable("the cluster token does not open the stored state (" + stateKey() + "): either "
                    + "the token is not the cluster's (" + useTheToken + ") or the state is damaged (restore it from an "
                    + "etcd backup)");
        }
        byte[] stored = got.getKvs().get(0).getValue().getBytes();
        if (MessageDigest.isEqual(stored, wrapping.tokenCheck())) {
            return new StateUnavailable("the stored state " + stateKey() + " is damaged: the token is right (it matches "
                    + checkKey() + ") but the state no longer opens. Restore " + stateKey() + " from an etcd backup; "
                    + "do not run enable, it would start a new state without the keys your data needs");
        }
        return new StateUnavailable("the cluster token does not open the stored state (" + stateKey() + "): this is not "
                + "the token the cluster was enabled with; " + useTheToken);
    }

    private void storeTokenCheckIfMissing(TokenWrap wrapping) {
        if (tokenCheckStored) {
            return;
        }
        ByteSequence key = bytes(checkKey());
        try {
            await(kv.txn().If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(0)))
                    .Then(Op.put(key, ByteSequence.from(wrapping.tokenCheck()), PutOption.DEFAULT)).commit(),
                    "store the token check");
            tokenCheckStored = true;
        } catch (StateUnavailable notNow) {
            // a convenience for later error messages: a full etcd (NOSPACE) must not fail a read for it
        }
    }

    @Override
    public Snapshot replace(long expectedRevision, Snapshot next) {
        byte[] wrapped = tokenWrap(true).wrap(SnapshotCodec.encode(next), stateKey());
        ByteSequence key = bytes(stateKey());
        Cmp unchanged = expectedRevision == 0 ? new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(0))
                : new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(expectedRevision));
        TxnResponse result = await(kv.txn().If(unchanged)
                .Then(Op.put(key, ByteSequence.from(wrapped), PutOption.DEFAULT)).commit(), "write the rotation state");
        if (!result.isSucceeded()) {
            throw new ChangedConcurrently("etcd " + stateKey());
        }
        storeTokenCheckIfMissing(tokenWrap(false));
        return next.atRevision(result.getHeader().getRevision());
    }

    @Override
    public void report(NodeReport report) {
        awaitRetrying(() -> kv.put(bytes(prefix + "nodes/" + report.node()), bytes(report.value())),
                "write this node's report");
    }

    @Override
    public List<NodeReport> reports() {
        String nodes = prefix + "nodes/";
        String alive = prefix + "alive/";
        GetOption all = GetOption.builder().isPrefix(true).build();
        // one read, so a report and the lease that keeps it alive are seen at the same revision
        TxnResponse got = awaitRetrying(() -> kv.txn().Then(Op.get(bytes(nodes), all), Op.get(bytes(prefix + "node-info/"),
                all), Op.get(bytes(alive), all)).commit(), "read node reports");
        Map<String, ServerRecord> records = parseRecords(got.getGetResponses().get(1));
        Set<String> kept = new HashSet<>();
        got.getGetResponses().get(2).getKvs().forEach(k -> kept.add(k.getKey().toString(StandardCharsets.UTF_8)
                .substring(alive.length())));
        List<NodeReport> out = new ArrayList<>();
        for (KeyValue kvp : got.getGetResponses().get(0).getKvs()) {
            String node = kvp.getKey().toString(StandardCharsets.UTF_8).substring(nodes.length());
            NodeReport report = NodeReport.parse(node, kvp.getValue().toString(StandardCharsets.UTF_8));
            boolean byAgent = Optional.ofNullable(records.get(node)).filter(r -> r.reporter() == Reporter.AGENT).isPresent();
            out.add(byAgent && !kept.contains(node) ? report.asStale() : report);
        }
        return out;
    }

    /** One leader among the agents of this cluster. */
    public Leadership leadership() {
        return new EtcdLeadership(client, prefix);
    }

    /** Hears each change of the rotation state. */
    public StateWatch stateWatch() {
        return new EtcdStateWatch(client, prefix);
    }

    @Override
    public ReportLease keepReportsAlive(String node, Duration ttl, Source reads) {
        Lease leases = client.getLeaseClient();
        long lease = await(leases.grant(ttl.toSeconds()), "grant the report lease of " + node).getID();
        ByteSequence key = bytes(prefix + "alive/" + node);
        PutOption onLease = PutOption.builder().withLeaseId(lease).build();
        awaitRetrying(() -> kv.put(key, ByteSequence.from(json(new StoredAlive(reads.text(), null))), onLease),
                "keep the report of " + node + " alive");
        LeaseOwnership owned = new LeaseOwnership(leases, lease, ttl);
        return new ReportLease() {
            @Override
            public void tell(Optional<String> problem) {
                // a put without its lease would detach the key from the agent's life
                awaitRetrying(() -> kv.put(key, ByteSequence.from(json(new StoredAlive(reads.text(),
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

    @Override
    public Map<String, RunningAgent> runningAgents() {
        String alive = prefix + "alive/";
        GetResponse got = awaitRetrying(() -> kv.get(bytes(alive), GetOption.builder().isPrefix(true).build()),
                "read which agents run");
        Map<String, RunningAgent> out = new TreeMap<>();
        for (KeyValue k : got.getKvs()) {
            out.put(k.getKey().toString(StandardCharsets.UTF_8).substring(alive.length()), runningAgent(k));
        }
        return out;
    }

    /** An alive key as this version writes it (JSON), or as older versions did (the plain source word). */
    private static RunningAgent runningAgent(KeyValue k) {
        String text = k.getValue().toString(StandardCharsets.UTF_8);
        try {
            if (text.startsWith("{")) {
                StoredAlive a = JSON.readValue(text, StoredAlive.class);
                return new RunningAgent(Source.APISERVER.text().equals(a.reads()) ? Source.APISERVER : Source.FILE,
                        Optional.ofNullable(a.problem()));
            }
        } catch (IOException damaged) {
            // read as the plain word below: what it reads is what the checks need
        }
        return new RunningAgent(Source.APISERVER.text().equals(text) ? Source.APISERVER : Source.FILE, Optional.empty());
    }

    /** A finding as stored: the keys' names (never their secrets), when, and where the file was. */
    record StoredFinding(List<String> keys, String foundAt, String file) {
    }

    @Override
    public void found(RetiredKeysInUse.Finding finding) {
        StoredFinding stored = new StoredFinding(finding.keys(), finding.foundAt().toString(), finding.file());
        awaitRetrying(() -> kv.put(bytes(prefix + "retired-key-in-use/" + finding.node()), ByteSequence.from(json(stored))),
                "record that " + finding.node() + " held a retired key");
    }

    @Override
    public List<RetiredKeysInUse.Finding> findings() {
        String under = prefix + "retired-key-in-use/";
        GetResponse got = awaitRetrying(() -> kv.get(bytes(under), GetOption.builder().isPrefix(true).build()),
                "read the retired keys found in use");
        List<RetiredKeysInUse.Finding> out = new ArrayList<>();
        for (KeyValue k : got.getKvs()) {
            String node = k.getKey().toString(StandardCharsets.UTF_8).substring(under.length());
            try {
                StoredFinding f = JSON.readValue(k.getValue().getBytes(), StoredFinding.class);
                out.add(new RetiredKeysInUse.Finding(node, f.keys() == null ? List.of() : f.keys(),
                        Instant.parse(f.foundAt()), f.file() == null ? "" : f.file(), k.getModRevision()));
            } catch (IOException | RuntimeException damaged) {
                // still a finding: a damaged record must not hide that a retired key may be in use
                out.add(new RetiredKeysInUse.Finding(node, List.of(), Instant.EPOCH, "", k.getModRevision()));
            }
        }
        return out;
    }

    @Override
    public void resolved(List<RetiredKeysInUse.Finding> seen) {
        for (RetiredKeysInUse.Finding f : seen) {
            ByteSequence key = bytes(prefix + "retired-key-in-use/" + f.node());
            // a finding written again since it was read (the server came back once more) stays
            await(kv.txn().If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(f.revision())))
                    .Then(Op.delete(key, io.etcd.jetcd.options.DeleteOption.DEFAULT)).commit(),
                    "clear the finding of " + f.node());
        }
    }

    @Override
    public String clusterId() {
        ByteSequence key = bytes(prefix + "cluster-id");
        GetResponse got = awaitRetrying(() -> kv.get(key), "read the cluster id");
        if (!got.getKvs().isEmpty()) {
            return got.getKvs().get(0).getValue().toString(StandardCharsets.UTF_8);
        }
        // made once, by whichever server asks first: the CAS keeps one id even when two ask at once
        String fresh = UUID.randomUUID().toString();
        TxnResponse made = await(kv.txn().If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.version(0)))
                .Then(Op.put(key, bytes(fresh), PutOption.DEFAULT)).Else(Op.get(key, GetOption.DEFAULT)).commit(),
                "store the cluster id");
        if (made.isSucceeded()) {
            return fresh;
        }
        return made.getGetResponses().get(0).getKvs().get(0).getValue().toString(StandardCharsets.UTF_8);
    }

    @Override
    public Map<String, ServerRecord> records() {
        return parseRecords(awaitRetrying(() -> kv.get(bytes(prefix + "node-info/"),
                GetOption.builder().isPrefix(true).build()), "read the server records"));
    }

    private Map<String, ServerRecord> parseRecords(GetResponse got) {
        String infos = prefix + "node-info/";
        Map<String, ServerRecord> out = new TreeMap<>();
        for (KeyValue kvp : got.getKvs()) {
            try {
                StoredRecord r = JSON.readValue(kvp.getValue().getBytes(), StoredRecord.class);
                Source source = "apiserver".equals(r.source()) ? Source.APISERVER : Source.FILE;
                out.put(kvp.getKey().toString(StandardCharsets.UTF_8).substring(infos.length()),
                        new ServerRecord(r.instanceId(), Instant.parse(r.reportedAt()), source,
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
        awaitRetrying(() -> kv.put(bytes(prefix + "node-info/" + node), ByteSequence.from(json(stored))),
                "write this server's record");
    }

    @Override
    public boolean forget(String node) {
        long deleted = await(kv.delete(bytes(prefix + "nodes/" + node)), "remove the report of " + node).getDeleted();
        deleted += await(kv.delete(bytes(prefix + "node-info/" + node)), "remove the record of " + node).getDeleted();
        await(kv.delete(bytes(prefix + "alive/" + node)), "remove the lease key of " + node);
        // its finding of a retired key stays: the values its apiserver wrote are still there until a pass
        return deleted > 0;
    }

    @Override
    public String describe() {
        return "etcd " + endpoints + " " + prefix;
    }

    @Override
    public void close() {
        client.close();
    }

    /** The wrapping key, derived once per process; the salt is created on the first write to a new cluster. */
    private synchronized TokenWrap tokenWrap(boolean createSalt) {
        if (wrap != null) {
            return wrap;
        }
        ByteSequence kdfKey = bytes(prefix + "kdf");
        if (createSalt) {
            KdfRecord fresh = new KdfRecord(TokenWrap.KDF, TokenWrap.ITERATIONS,
                    Base64.getEncoder().encodeToString(TokenWrap.newSalt()));
            await(kv.txn().If(new Cmp(kdfKey, Cmp.Op.EQUAL, CmpTarget.version(0)))
                    .Then(Op.put(kdfKey, ByteSequence.from(json(fresh)), PutOption.DEFAULT)).commit(), "store the salt");
        }
        GetResponse got = awaitRetrying(() -> kv.get(kdfKey), "read the salt");
        if (got.getKvs().isEmpty()) {
            throw new StateUnavailable("etcd " + prefix + "state exists but " + prefix + "kdf is missing: restore both "
                    + "from an etcd backup");
        }
        try {
            KdfRecord kdf = JSON.readValue(got.getKvs().get(0).getValue().getBytes(), KdfRecord.class);
            if (!TokenWrap.KDF.equals(kdf.kdf())) {
                throw new StateUnavailable("etcd " + prefix + "kdf names " + kdf.kdf() + ", which this version does not "
                        + "know: use the secrets-encrypt version that created it");
            }
            wrap = TokenWrap.derive(token, Base64.getDecoder().decode(kdf.salt()), kdf.iterations());
            return wrap;
        } catch (IOException | IllegalArgumentException e) {
            throw new StateUnavailable("etcd " + prefix + "kdf is damaged: restore it from an etcd backup");
        }
    }

    private static byte[] json(Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Waits at most the timeout: an unreachable etcd is an error in seconds, never a hang. */
    private <T> T await(CompletableFuture<T> future, String what) {
        try {
            T answer = future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            reached = true;
            return answer;
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new StateUnavailable("cannot " + what + ": etcd at " + endpoints + " did not answer within "
                    + timeout.toSeconds() + " s; check --endpoints, the TLS options and that etcd is running", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new StateUnavailable("cannot " + what + " in etcd at " + endpoints + ": " + cause.getMessage(), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StateUnavailable("interrupted while waiting for etcd to " + what);
        }
    }

    /**
     * For requests that are safe to send twice (reads, plain puts): a lost member or a leader election is ridden
     * through as long as the quorum holds, instead of ending a pass that has been running for an hour.
     */
    private <T> T awaitRetrying(Supplier<CompletableFuture<T>> request, String what) {
        for (int attempt = 1; ; attempt++) {
            try {
                return await(request.get(), what);
            } catch (StateUnavailable e) {
                // an etcd never reached is a setup problem (endpoints, TLS): said within seconds, not retried
                if (!reached || attempt >= EtcdRetry.ATTEMPTS || !EtcdRetry.isTransient(e.getCause())) {
                    throw e;
                }
            }
            try {
                Thread.sleep(EtcdRetry.delayBefore(attempt + 1).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StateUnavailable("interrupted while waiting for etcd to " + what);
            }
        }
    }

    static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }

    /** The etcd that holds the Secrets (and this tool's state), for the composition root's re-encryption. */
    public KV datastore() {
        return kv;
    }

    @Override
    public long count(String keyPrefix) {
        return await(kv.get(bytes(keyPrefix), GetOption.builder().isPrefix(true).withCountOnly(true).build()),
                "count the stored values").getCount();
    }

    @Override
    public long newestRevision(String keyPrefix) {
        return awaitRetrying(() -> kv.get(bytes(keyPrefix), GetOption.builder().isPrefix(true).withKeysOnly(true)
                .withSortField(GetOption.SortTarget.MOD).withSortOrder(GetOption.SortOrder.DESCEND).withLimit(1).build()),
                "read " + keyPrefix).getKvs().stream().mapToLong(KeyValue::getModRevision).max().orElse(0);
    }

    @Override
    public List<byte[]> values(String keyPrefix, int limit) {
        return await(kv.get(bytes(keyPrefix), GetOption.builder().isPrefix(true).withLimit(limit).build()),
                "read " + keyPrefix).getKvs().stream().map(k -> k.getValue().getBytes()).toList();
    }

    @Override
    public Optional<String> owner() {
        GetResponse got = awaitRetrying(() -> kv.get(bytes(prefix + "reencrypt/owner")), "read the re-encryption owner");
        return got.getKvs().stream().findFirst().map(k -> k.getValue().toString(StandardCharsets.UTF_8));
    }

    @Override
    public Ownership claim(String node, Duration ttl) {
        Lease leases = client.getLeaseClient();
        long lease = await(leases.grant(ttl.toSeconds()), "grant the re-encryption lease").getID();
        ByteSequence ownerKey = bytes(prefix + "reencrypt/owner");
        TxnResponse claimed = await(kv.txn().If(new Cmp(ownerKey, Cmp.Op.EQUAL, CmpTarget.version(0)))
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
        GetResponse got = awaitRetrying(() -> kv.get(bytes(prefix + "reencrypt/run")), "read the re-encryption checkpoint");
        return got.getKvs().stream().findFirst().map(k -> k.getValue().getBytes());
    }

    @Override
    public void saveRunRecord(byte[] json) {
        awaitRetrying(() -> kv.put(bytes(prefix + "reencrypt/run"), ByteSequence.from(json)),
                "save the re-encryption checkpoint");
    }

    @Override
    public long saveSnapshot(OutputStream out, Duration within) {
        CompletableFuture<Long> saving = client.getMaintenanceClient().snapshot(out);
        try {
            return saving.get(within.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            saving.cancel(true);
            throw new StateUnavailable("cannot save an etcd snapshot: etcd at " + endpoints + " did not send it within "
                    + within.toMinutes() + " min; check etcd's health and its database size", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new StateUnavailable("cannot save an etcd snapshot from " + endpoints + ": " + cause.getMessage(), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StateUnavailable("interrupted while saving an etcd snapshot");
        }
    }

    /** For tests and diagnostics: every raw key and value under the prefix, exactly as etcd holds them. */
    public Map<String, byte[]> rawValues() {
        GetResponse got = await(kv.get(bytes(prefix), GetOption.builder().isPrefix(true).build()), "read the state");
        Map<String, byte[]> out = new java.util.TreeMap<>();
        got.getKvs().forEach(k -> out.put(k.getKey().toString(StandardCharsets.UTF_8), k.getValue().getBytes()));
        return out;
    }
}
