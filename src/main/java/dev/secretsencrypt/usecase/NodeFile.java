package dev.secretsencrypt.usecase;

import dev.secretsencrypt.config.BoundedFiles;
import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.config.ConfigHash;
import dev.secretsencrypt.config.EncryptionConfig;
import dev.secretsencrypt.config.InvalidConfig;
import dev.secretsencrypt.config.AtomicFiles;
import dev.secretsencrypt.config.OsReason;
import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.failure.PartlyDone;
import dev.secretsencrypt.failure.StateUnavailable;
import dev.secretsencrypt.rotation.FileKeys;
import dev.secretsencrypt.rotation.RetiredKey;
import dev.secretsencrypt.rotation.RotationState;
import dev.secretsencrypt.rotation.Stage;
import dev.secretsencrypt.store.ClusterState;
import dev.secretsencrypt.store.RetiredKeysInUse;
import dev.secretsencrypt.store.Snapshot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * This node's {@code encryption-config.json}, the file kube-apiserver loads: written from the cluster's state only when
 * that loses no key the file holds ({@link FileKeys}), and noted in the cluster state when the file it replaces had a
 * retired key as its writer.
 */
final class NodeFile {
    private final Path path;
    private final String nodeName;
    private final Optional<RetiredKeysInUse> findings;
    private final Clock clock;

    NodeFile(Path path, String nodeName, Optional<RetiredKeysInUse> findings, Clock clock) {
        this.path = path;
        this.nodeName = nodeName;
        this.findings = findings;
        this.clock = clock;
    }

    Path path() {
        return path;
    }

    /** What writing the file did, and what to say when the file it replaced wrote with a retired key. */
    record Written(boolean written, Optional<String> retiredWriter) {
    }

    /** Writes the file when it differs from the state's config; identical bytes are left alone (its mtime stays). */
    Written write(Snapshot snapshot, boolean force) {
        return write(snapshot, force, replaced -> { });
    }

    /**
     * As {@link #write(Snapshot, boolean)}, telling {@code beforeReplacing} the digest of the file it is about to
     * replace, before anything else: its kube-apiserver may serve with that file now, whatever the stored report says.
     */
    Written write(Snapshot snapshot, boolean force, Consumer<ConfigHash> beforeReplacing) {
        EncryptionConfig config = snapshot.rotation().config();
        requireKeysKept(snapshot, force);
        if (Files.exists(path)) {
            byte[] onDisk = bytes();
            if (Arrays.equals(onDisk, ConfigFiles.canonicalBytes(config))) {
                return new Written(false, Optional.empty());
            }
            beforeReplacing.accept(ConfigHash.ofFile(onDisk));
        }
        // before the file changes: once it is replaced, nothing would show that its apiserver wrote with a retired key
        Optional<String> retiredWriter = noteRetiredWriter(snapshot);
        try {
            ConfigFiles.write(path, config);
            return new Written(true, retiredWriter);
        } catch (InvalidConfig e) {
            throw new CommandRefused("refusing to write an invalid config: " + e.getMessage());
        } catch (IOException e) {
            throw new StateUnavailable("cannot write " + path + ": " + OsReason.of(e), e);
        }
    }

    /**
     * Refused, before the cluster state changes, when this file could not be written now (read-only file system, no
     * space, permissions): a state that moved while this server's file stayed behind is worse than no change.
     */
    void requireWritable(Snapshot next) {
        try {
            AtomicFiles.probe(path, ConfigFiles.canonicalBytes(next.rotation().config()).length);
        } catch (IOException e) {
            throw new CommandRefused("cannot write " + path + ": " + OsReason.of(e) + "; nothing was changed: make "
                    + "its directory writable for this user (a read-only mount, a full disk or its owner), then run "
                    + "the command again");
        }
    }

    /** Writes the file after the cluster state moved to {@code saved}; a failure says the state did move. */
    Written writeAfter(Snapshot saved, String step) {
        try {
            return write(saved, false);
        } catch (StateUnavailable e) {
            throw new PartlyDone("the cluster is at stage " + saved.rotation().stage().text() + " (" + step + " was "
                    + "stored), but this server's file was not written: " + e.getMessage() + ". Fix that, then run "
                    + "sync here: it writes the file from the cluster state", e);
        }
    }

    /**
     * Refused when the file holds a key or provider neither the new config nor the retired keys do: the values this
     * server's apiserver wrote with it (a server set up apart, say) would become unreadable.
     */
    void requireKeysKept(Snapshot next, boolean force) {
        Optional<EncryptionConfig> onDisk = force ? Optional.empty() : readable();
        List<String> lost = onDisk.map(c -> FileKeys.lostBy(c, next.rotation().config(), next.retiredKeys()))
                .orElse(List.of());
        if (!lost.isEmpty()) {
            throw new CommandRefused(path + " holds key(s) or provider(s) the cluster state does not: "
                    + String.join(", ", lost) + ". Replacing the file would make the values this server wrote with them "
                    + "unreadable. If no value was ever written with them, run sync -f; if etcd was restored from an older "
                    + "snapshot, restore the state to match; otherwise keep this file and reconcile first (verify counts "
                    + "the stored values per key); nothing was changed");
        }
    }

    /** A retired writer in the file as it is now: recorded in the cluster state, said in words. */
    private Optional<String> noteRetiredWriter(Snapshot next) {
        if (next.retiredKeys().isEmpty()) {
            return Optional.empty();
        }
        List<RetiredKey> writers = readable().map(c -> FileKeys.retiredWriters(c, next.retiredKeys())).orElse(List.of());
        if (writers.isEmpty()) {
            return Optional.empty();
        }
        List<String> names = writers.stream().map(k -> k.type().field() + "/" + k.key().name()).toList();
        findings.ifPresent(f -> f.found(new RetiredKeysInUse.Finding(nodeName, names, clock.instant(), path.toString(),
                0)));
        return Optional.of(RetiredWriter.found(path, writers));
    }

    /** The file's config; empty when there is none, or it does not parse (kube-apiserver loads no such file either). */
    private Optional<EncryptionConfig> readable() {
        if (!Files.exists(path)) {
            return Optional.empty();
        }
        try {
            return Optional.of(ConfigFiles.read(path));
        } catch (InvalidConfig e) {
            return Optional.empty();
        }
    }

    /** The file and, if it ran in single-server mode before, the stage it recorded, as an unsaved state. */
    Optional<Snapshot> adopt(Optional<ClusterState> singleServerRecord) {
        if (!Files.exists(path)) {
            return Optional.empty();
        }
        Optional<Snapshot> local = singleServerRecord.flatMap(ClusterState::read);
        if (local.isPresent()) {
            return Optional.of(Snapshot.unsaved(local.get().rotation()));
        }
        try {
            return Optional.of(Snapshot.unsaved(new RotationState(Stage.START, ConfigFiles.read(path), Optional.empty())));
        } catch (InvalidConfig e) {
            throw new CommandRefused(e.getMessage() + ": fix or remove " + path + " first; nothing was changed");
        }
    }

    /** Whether the file is the stored config byte for byte, in words when it is not. */
    Optional<String> differsFrom(Snapshot stored) {
        if (!Files.exists(path)) {
            return Optional.of(path + " does not exist: run sync on this server");
        }
        if (Arrays.equals(bytes(), ConfigFiles.canonicalBytes(stored.rotation().config()))) {
            return Optional.empty();
        }
        return Optional.of(path + " differs from the cluster's config (hand-edited, or not synced yet): run sync "
                + "on this server (it refuses if the file holds a key the cluster lacks)");
    }

    /** The sha256 (hex) of the file as it is: what kube-apiserver reports once it loaded it. */
    ConfigHash hash() {
        return ConfigHash.ofFile(bytes());
    }

    private byte[] bytes() {
        try {
            return BoundedFiles.read(path, BoundedFiles.CONFIG_LIMIT);
        } catch (IOException e) {
            throw new StateUnavailable("cannot read " + path + ": " + OsReason.of(e), e);
        }
    }
}
