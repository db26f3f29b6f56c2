package dev.secretsencrypt.reencrypt;

import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.envelope.Opened;
import dev.secretsencrypt.envelope.ProviderChain;
import dev.secretsencrypt.envelope.StorageForm;
import dev.secretsencrypt.envelope.UnreadableValue;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KeyValue;

/** Decides, value by value, what a pass writes. Implementations are stateless and shared by the worker threads. */
@FunctionalInterface
interface ValuePolicy {

    Verdict judge(KeyValue stored);

    /** Opens with the chain and seals what is not under the writer (everything, with {@code rewriteAll}). */
    static ValuePolicy reencrypt(ProviderChain chain, boolean rewriteAll) {
        Envelope writer = chain.writer();
        return stored -> {
            byte[] etcdKey = stored.getKey().getBytes();
            Opened opened;
            try {
                opened = chain.open(stored.getValue().getBytes(), etcdKey);
            } catch (UnreadableValue e) {
                return new Verdict.Unreadable(e.etcdKey(), e.reason());
            }
            if (!opened.stale() && !rewriteAll) {
                return new Verdict.Keep();
            }
            if (!writer.authenticated() && !StorageForm.isStoredObject(opened.plaintext())) {
                // sealed under aescbc, bytes that are no stored object could never be trusted again when opened
                return new Verdict.Unreadable(UnreadableValue.printable(etcdKey), "its plaintext is not a stored "
                        + "Kubernetes object, so under " + writer.description() + " it could not be told from a value "
                        + "sealed with another secret; it is left as it is");
            }
            // The plaintext is opaque bytes (protobuf, JSON, whatever the apiserver stored): never parsed.
            byte[] sealed = writer.seal(opened.plaintext(), etcdKey);
            return new Verdict.Put(ByteSequence.from(sealed), opened.stale() ? opened.by().description() : null);
        };
    }

    /** The benchmark ceiling: every value written back byte-identical, through the same batching and CAS. */
    static ValuePolicy writeBackUnchanged() {
        return stored -> new Verdict.Put(stored.getValue(), null);
    }
}
