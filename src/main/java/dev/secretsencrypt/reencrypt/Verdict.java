package dev.secretsencrypt.reencrypt;

import io.etcd.jetcd.ByteSequence;

/** What a pass does with one stored value. */
sealed interface Verdict {

    /** Already under the writer: not written, so its mod_revision and any watcher stay quiet. */
    record Keep() implements Verdict {
    }

    /** Write {@code value}; {@code from} is the envelope it was under, null when not opened (the ceiling). */
    record Put(ByteSequence value, String from) implements Verdict {
    }

    /** No configured key reads it: listed, left byte-identical, counted as failed. */
    record Unreadable(String etcdKey, String reason) implements Verdict {
    }
}
