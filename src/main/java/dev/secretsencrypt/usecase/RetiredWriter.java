package dev.secretsencrypt.usecase;

import dev.secretsencrypt.rotation.RetiredKey;
import dev.secretsencrypt.store.RetiredKeysInUse;
import java.nio.file.Path;
import java.util.List;

/** What is said about a server whose file had a retired key as its writer: names and dates, never a secret. */
final class RetiredWriter {
    private RetiredWriter() {
    }

    /** Said to whoever replaced the file (sync's warning, the agent's log). */
    static String found(Path file, List<RetiredKey> writers) {
        String keys = String.join(", ", writers.stream().map(k -> k.type().field() + "/" + k.key().name()
                + " (retired " + k.retiredAt() + ")").toList());
        return file + " had " + keys + " as its writer: kube-apiserver on this server may have written Secrets with "
                + (writers.size() > 1 ? "them" : "it") + " that no other server can read. The file now holds the "
                + "cluster's config; once kube-apiserver here loaded it, run reencrypt on any server (it reads those "
                + "values through the retired key and rewrites them under the active key), then verify";
    }

    /** Shown by status until a clean re-encryption pass has run since. */
    static String caution(RetiredKeysInUse.Finding f) {
        return f.node() + " had the retired key " + (f.keys().isEmpty() ? "(unnamed: its record is damaged)"
                : String.join(", ", f.keys())) + " as its writer (found " + f.foundAt() + "): its kube-apiserver may "
                + "have written values only that key reads; run reencrypt, then verify";
    }
}
