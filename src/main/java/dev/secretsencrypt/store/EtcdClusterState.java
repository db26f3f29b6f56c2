package dev.secretsencrypt.store;

import static dev.secretsencrypt.store.EtcdCalls.bytes;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.secretsencrypt.failure.ChangedConcurrently;
import dev.secretsencrypt.failure.StateUnavailable;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.io.IOException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.Optional;

/**
 * The cluster's rotation state in etcd: one key holding the snapshot wrapped with a key derived from the cluster token
 * (keys are never stored in the clear beside the Secrets they protect), its salt beside it, and a token check that
 * tells a wrong token from a damaged state. The snapshot's revision is etcd's mod_revision: every change is a CAS.
 */
final class EtcdClusterState implements ClusterState {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final EtcdCalls etcd;
    private final StateKeys keys;
    private final char[] token;
    private TokenWrap wrap;
    private boolean tokenCheckStored;

    EtcdClusterState(EtcdCalls etcd, StateKeys keys, char[] token) {
        this.etcd = etcd;
        this.keys = keys;
        this.token = token.clone();
    }

    record KdfRecord(String kdf, int iterations, String salt) {
    }

    @Override
    public Optional<Snapshot> read() {
        GetResponse got = etcd.awaitRetrying(() -> etcd.kv.get(bytes(keys.state())), "read the rotation state");
        if (got.getKvs().isEmpty()) {
            return Optional.empty();
        }
        KeyValue stored = got.getKvs().get(0);
        TokenWrap wrapping = tokenWrap(false);
        byte[] plain;
        try {
            plain = wrapping.unwrap(stored.getValue().getBytes(), keys.state());
        } catch (TokenWrap.NotOpened e) {
            throw notOpened(wrapping);
        }
        return Optional.of(SnapshotCodec.decode(plain, stored.getModRevision(), etcd.name() + " " + keys.state()));
    }

    @Override
    public Snapshot replace(long expectedRevision, Snapshot next) {
        byte[] wrapped = tokenWrap(true).wrap(SnapshotCodec.encode(next), keys.state());
        ByteSequence key = bytes(keys.state());
        // one compare on mod_revision (0: absent), one put, one read: the shape kine takes too
        long written = etcd.casPut(key, expectedRevision, wrapped, PutOption.DEFAULT, "write the rotation state")
                .orElseThrow(() -> new ChangedConcurrently(etcd.name() + " " + keys.state()));
        storeTokenCheckIfMissing(tokenWrap(false));
        return next.atRevision(written);
    }

    @Override
    public String describe() {
        return etcd.askedName() + " " + etcd.endpoints + " " + keys.prefix();
    }

    /** Tells the operator which it is: another token, or a state changed since it was wrapped. */
    private StateUnavailable notOpened(TokenWrap wrapping) {
        GetResponse got = etcd.await(etcd.kv.get(bytes(keys.tokenCheck())), "read the token check");
        String useTheToken = "use the token the cluster was enabled with (--token-file, SECRETS_ENCRYPT_TOKEN or "
                + "<data-dir>/token)";
        if (got.getKvs().isEmpty()) {
            return new StateUnavailable("the cluster token does not open the stored state (" + keys.state() + "): either "
                    + "the token is not the cluster's (" + useTheToken + ") or the state is damaged (restore it from a "
                    + "backup of " + etcd.name() + ")");
        }
        byte[] stored = got.getKvs().get(0).getValue().getBytes();
        if (MessageDigest.isEqual(stored, wrapping.tokenCheck())) {
            return new StateUnavailable("the stored state " + keys.state() + " is damaged: the token is right (it matches "
                    + keys.tokenCheck() + ") but the state no longer opens. Restore " + keys.state() + " from a backup "
                    + "of " + etcd.name() + "; do not run enable, it would start a new state without the keys your data needs");
        }
        return new StateUnavailable("the cluster token does not open the stored state (" + keys.state() + "): this is "
                + "not the token the cluster was enabled with; " + useTheToken);
    }

    private void storeTokenCheckIfMissing(TokenWrap wrapping) {
        if (tokenCheckStored) {
            return;
        }
        ByteSequence key = bytes(keys.tokenCheck());
        try {
            etcd.await(etcd.kv.txn().If(new Cmp(key, Cmp.Op.EQUAL, CmpTarget.modRevision(0)))
                    .Then(Op.put(key, ByteSequence.from(wrapping.tokenCheck()), PutOption.DEFAULT))
                    .Else(Op.get(key, GetOption.DEFAULT)).commit(), "store the token check");
            tokenCheckStored = true;
        } catch (StateUnavailable notNow) {
            // a convenience for later error messages: a full etcd (NOSPACE) must not fail a read for it
        }
    }

    /** The wrapping key, derived once per process; the salt is created on the first write to a new cluster. */
    private synchronized TokenWrap tokenWrap(boolean createSalt) {
        if (wrap != null) {
            return wrap;
        }
        ByteSequence kdfKey = bytes(keys.kdf());
        if (createSalt) {
            KdfRecord fresh = new KdfRecord(TokenWrap.KDF, TokenWrap.ITERATIONS,
                    Base64.getEncoder().encodeToString(TokenWrap.newSalt()));
            etcd.await(etcd.kv.txn().If(new Cmp(kdfKey, Cmp.Op.EQUAL, CmpTarget.modRevision(0)))
                    .Then(Op.put(kdfKey, ByteSequence.from(json(fresh)), PutOption.DEFAULT))
                    .Else(Op.get(kdfKey, GetOption.DEFAULT)).commit(), "store the salt");
        }
        GetResponse got = etcd.awaitRetrying(() -> etcd.kv.get(kdfKey), "read the salt");
        if (got.getKvs().isEmpty()) {
            throw new StateUnavailable(etcd.name() + " " + keys.state() + " exists but " + keys.kdf() + " is missing: restore "
                    + "both from a backup of " + etcd.name());
        }
        try {
            KdfRecord kdf = JSON.readValue(got.getKvs().get(0).getValue().getBytes(), KdfRecord.class);
            if (!TokenWrap.KDF.equals(kdf.kdf())) {
                throw new StateUnavailable(etcd.name() + " " + keys.kdf() + " names " + kdf.kdf() + ", which this version does not "
                        + "know: use the secrets-encrypt version that created it");
            }
            wrap = TokenWrap.derive(token, Base64.getDecoder().decode(kdf.salt()), kdf.iterations());
            return wrap;
        } catch (IOException | IllegalArgumentException e) {
            throw new StateUnavailable(etcd.name() + " " + keys.kdf() + " is damaged: restore it from a backup of "
                    + etcd.name());
        }
    }

    private static byte[] json(Object value) {
        try {
            return JSON.writeValueAsBytes(value);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
