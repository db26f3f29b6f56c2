package dev.secretsencrypt.config;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.Locale;

/**
 * Why a file operation failed, in the operating system's words ("permission denied", "read-only file system"): a
 * Java exception's message is often the bare path, and its class name means nothing to an operator.
 */
public final class OsReason {
    private OsReason() {
    }

    public static String of(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NotDirectoryException) {
            return "not a directory";
        }
        if (e instanceof FileSystemException fs && fs.getReason() != null) {
            return fs.getReason().toLowerCase(Locale.ROOT);
        }
        String message = e.getMessage();
        return message == null || message.isBlank() ? "an input/output error" : message.toLowerCase(Locale.ROOT);
    }
}
