package dev.secretsencrypt.config;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.LinkOption;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Set;

/**
 * Crash-safe file replacement for files that hold keys: a reader (kube-apiserver, another command) sees the
 * old bytes or the new bytes, never a torn or world-readable file.
 */
public final class AtomicFiles {
    private static final Set<PosixFilePermission> PRIVATE_FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> PRIVATE_DIR = PosixFilePermissions.fromString("rwx------");
    private static final String TEMP_SUFFIX = ".tmp";
    static final Duration LEFTOVER_AGE = Duration.ofSeconds(10);

    private AtomicFiles() {
    }

    /**
     * Replaces {@code file} with {@code bytes}: temp file in the same directory created 0600 (never readable by
     * others, even briefly), fsync, atomic rename, fsync of the directory. Missing directories are created 0700;
     * existing ones are left as they are. A symbolic link is written through: its target is replaced atomically and
     * the link stays, so a kube-apiserver that reads the link's target sees every update. Temp files a killed write
     * left behind (they hold every key) are removed first.
     */
    public static void write(Path file, byte[] bytes) throws IOException {
        Path target = target(file);
        Path dir = target.getParent();
        createMissing(dir);
        removeLeftovers(target);
        Path temp = writeTemp(target, ByteBuffer.wrap(bytes));
        try {
            Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
        // Without this the rename itself may be lost in a crash, leaving the old file in place.
        syncDirectory(dir);
    }

    /**
     * Whether {@link #write} of {@code size} bytes could replace {@code file} now: the same temp file, filled with
     * zeros (never a key), fsynced and removed. A read-only, full or foreign-owned directory fails here, before a
     * caller changes anything that the file must follow.
     */
    public static void probe(Path file, int size) throws IOException {
        Path target = target(file);
        createMissing(target.getParent());
        Files.delete(writeTemp(target, ByteBuffer.allocate(size)));
    }

    /** The file a write replaces: a symbolic link's target (the link stays), else the file itself. */
    private static Path target(Path file) throws IOException {
        return Files.isSymbolicLink(file) ? file.toRealPath() : file.toAbsolutePath();
    }

    /** {@code bytes} in a new temp file beside {@code target}, created 0600 and fsynced; removed if that fails. */
    private static Path writeTemp(Path target, ByteBuffer bytes) throws IOException {
        FileAttribute<Set<PosixFilePermission>> mode = PosixFilePermissions.asFileAttribute(PRIVATE_FILE);
        Path temp = Files.createTempFile(target.getParent(), tempPrefix(target), TEMP_SUFFIX, mode);
        try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.WRITE)) {
            while (bytes.hasRemaining()) {
                channel.write(bytes);
            }
            channel.force(true);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
        return temp;
    }

    /**
     * Removes what a write of {@code file} killed between creating its temp file and the rename left behind. Only temp
     * files older than {@link #LEFTOVER_AGE}: a write takes milliseconds, so an older one is never a write in flight.
     */
    public static void removeLeftovers(Path file) throws IOException {
        Path absolute = file.toAbsolutePath();
        if (Files.isSymbolicLink(absolute)) {
            removeLeftoversOf(absolute.toRealPath());
        }
        removeLeftoversOf(absolute); // beside a link too: an older version wrote its temp file there
    }

    private static void removeLeftoversOf(Path target) throws IOException {
        String prefix = tempPrefix(target);
        removeOlderThan(target.getParent(), name -> name.startsWith(prefix)
                && name.substring(prefix.length()).matches("[0-9]+\\.tmp"));
    }

    private static void removeOlderThan(Path dir, java.util.function.Predicate<String> isLeftover) throws IOException {
        if (dir == null || !Files.isDirectory(dir)) {
            return;
        }
        FileTime before = FileTime.from(Instant.now().minus(LEFTOVER_AGE));
        try (DirectoryStream<Path> leftovers = Files.newDirectoryStream(dir,
                p -> isLeftover.test(p.getFileName().toString()))) {
            for (Path leftover : leftovers) {
                if (Files.getLastModifiedTime(leftover, LinkOption.NOFOLLOW_LINKS).compareTo(before) < 0) {
                    Files.deleteIfExists(leftover);
                }
            }
        }
    }

    private static String tempPrefix(Path target) {
        return "." + target.getFileName() + ".";
    }

    /** Makes {@code dir} private to the owner: created 0700 when missing, chmod 0700 when present. */
    public static void ensurePrivateDir(Path dir) throws IOException {
        Path absolute = dir.toAbsolutePath();
        createMissing(absolute);
        Files.setPosixFilePermissions(absolute, PRIVATE_DIR);
    }

    private static void createMissing(Path dir) throws IOException {
        Deque<Path> missing = new ArrayDeque<>();
        for (Path d = dir; d != null && !Files.exists(d); d = d.getParent()) {
            missing.push(d);
        }
        if (!missing.isEmpty() && missing.peek().getParent() != null
                && !Files.isDirectory(missing.peek().getParent())) {
            throw new NotDirectoryException(missing.peek().getParent().toString());
        }
        for (Path d : missing) {
            try {
                Files.createDirectory(d, PosixFilePermissions.asFileAttribute(PRIVATE_DIR));
            } catch (FileAlreadyExistsException raced) {
                continue; // another process made it first; not ours to chmod
            }
            // The umask may have taken bits away at creation; state the mode outright.
            Files.setPosixFilePermissions(d, PRIVATE_DIR);
        }
        if (!Files.isDirectory(dir)) {
            throw new NotDirectoryException(dir.toString());
        }
    }

    private static void syncDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }
}
