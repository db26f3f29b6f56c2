package dev.secretsencrypt.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Reads small files whole, and refuses what is not one: a config or token path that points at {@code /dev/zero}, a
 * FIFO or a huge file would otherwise hang the command or exhaust the heap.
 */
public final class BoundedFiles {
    /** Far above any real EncryptionConfiguration (kube-apiserver's own files are a few KiB). */
    public static final int CONFIG_LIMIT = 4 << 20;
    /** Tokens, state records, certificates and keys. */
    public static final int SMALL_LIMIT = 1 << 20;

    private BoundedFiles() {
    }

    /** The whole file; refused (with a sentence naming it) when it is not a regular file or exceeds {@code limit}. */
    public static byte[] read(Path file, int limit) throws IOException {
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            throw new IOException(file + " is not a regular file (a device, FIFO or directory): point at a file");
        }
        try (InputStream in = Files.newInputStream(file)) {
            byte[] bytes = in.readNBytes(limit + 1);
            if (bytes.length > limit) {
                throw new IOException(file + " is larger than " + (limit >> 20) + " MiB, far more than such a file "
                        + "holds: point at the right file");
            }
            return bytes;
        }
    }
}
