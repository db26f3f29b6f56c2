package dev.secretsencrypt.usecase;

import dev.secretsencrypt.config.OsReason;
import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.failure.StateUnavailable;
import dev.secretsencrypt.store.DatastoreSnapshots;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * etcd snapshots saved before old keys are retired, so the data as it was under them can be restored (Gardener
 * snapshots at this point too). Each is the whole keyspace (every Secret, encrypted), so files are 0600 in a 0700 dir.
 */
final class RetirementSnapshots {
    static final String PREFIX = "etcd-before-retire-";
    static final String SUFFIX = ".db";
    /** A snapshot streams the whole database: far longer than one request may take. */
    private static final Duration SAVE_TIMEOUT = Duration.ofMinutes(30);
    // sortable by name, so the oldest are the first listed; milliseconds keep two runs in one second apart
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss.SSS'Z'")
            .withZone(ZoneOffset.UTC);
    private static final Set<PosixFilePermission> PRIVATE_FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> PRIVATE_DIR = PosixFilePermissions.fromString("rwx------");

    private final SnapshotPolicy policy;
    private final DatastoreSnapshots datastore;

    RetirementSnapshots(SnapshotPolicy policy, DatastoreSnapshots datastore) {
        this.policy = policy;
        this.datastore = datastore;
    }

    /** Checked before the first step: a snapshot dir others can read must not receive every Secret. */
    void requireUsableDir() {
        datastore.unavailable().ifPresent(why -> {
            throw new CommandRefused("--snapshot-dir is refused: " + why + "; nothing was changed");
        });
        Path dir = policy.dir();
        try {
            if (!Files.exists(dir, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PRIVATE_DIR));
                Files.setPosixFilePermissions(dir, PRIVATE_DIR); // the umask may have narrowed what was asked
                return;
            }
            if (!Files.isDirectory(dir)) {
                throw new CommandRefused("--snapshot-dir " + dir + " is not a directory: name a directory (it is "
                        + "created 0700 when missing); nothing was changed");
            }
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir);
            if (!PRIVATE_DIR.containsAll(mode)) {
                throw new CommandRefused("--snapshot-dir " + dir + " is open to others (mode "
                        + PosixFilePermissions.toString(mode) + ") and a snapshot holds every Secret: run chmod 700 "
                        + dir + " or name another directory; nothing was changed");
            }
        } catch (IOException e) {
            throw new CommandRefused("cannot use --snapshot-dir " + dir + ": " + OsReason.of(e) + "; nothing was changed");
        }
    }

    /** Saves one snapshot (written apart, then renamed: a file with the final name is always whole), then prunes. */
    Saved save(Instant now) {
        requireUsableDir();
        Path target = policy.dir().resolve(PREFIX + STAMP.format(now) + SUFFIX);
        Path temp = null;
        try {
            temp = Files.createTempFile(policy.dir(), PREFIX, ".part", PosixFilePermissions.asFileAttribute(PRIVATE_FILE));
            long size;
            try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
                OutputStream out = new BufferedOutputStream(Channels.newOutputStream(channel), 1 << 16);
                size = datastore.saveSnapshot(out, SAVE_TIMEOUT);
                out.flush();
                channel.force(true);
            }
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
            temp = null;
            return new Saved(target, size, prune());
        } catch (IOException e) {
            throw new StateUnavailable("cannot write the etcd snapshot in " + policy.dir() + ": " + OsReason.of(e)
                    + "; free space there or name another --snapshot-dir, then run rotate-keys again", e);
        } finally {
            if (temp != null) {
                try {
                    Files.deleteIfExists(temp);
                } catch (IOException ignored) {
                    // the .part name says it is incomplete; the next save's listing ignores it
                }
            }
        }
    }

    /** Removes the oldest snapshots beyond the ones to keep; returns the removed files. */
    private List<Path> prune() throws IOException {
        List<Path> saved;
        try (Stream<Path> files = Files.list(policy.dir())) {
            saved = files.filter(p -> {
                String name = p.getFileName().toString();
                return name.startsWith(PREFIX) && name.endsWith(SUFFIX);
            }).sorted().toList();
        }
        List<Path> old = saved.subList(0, Math.max(0, saved.size() - policy.keep()));
        for (Path p : old) {
            Files.deleteIfExists(p);
        }
        return old;
    }

    record Saved(Path file, long bytes, List<Path> removed) {
    }
}
