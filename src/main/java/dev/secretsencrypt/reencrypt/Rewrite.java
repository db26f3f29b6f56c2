package dev.secretsencrypt.reencrypt;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;

/**
 * One pending write: the new value, the mod_revision it must still have (CAS), its lease, the envelope it was
 * under ({@code from}, null when unknown) and how often it changed under us so far.
 */
record Rewrite(ByteSequence key, long modRevision, long lease, ByteSequence value, String from, int changes) {
    // Compare and put both carry the key; the rest is protobuf framing.
    private static final int OVERHEAD = 32;

    static Rewrite of(KeyValue stored, Verdict.Put put, int changes) {
        return new Rewrite(stored.getKey(), stored.getModRevision(), stored.getLease(), put.value(), put.from(),
                changes);
    }

    int requestBytes() {
        return 2 * key.size() + value.size() + OVERHEAD;
    }
}
