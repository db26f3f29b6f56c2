package dev.secretsencrypt.store;

import dev.secretsencrypt.config.OsReason;
import dev.secretsencrypt.failure.StateUnavailable;
import dev.secretsencrypt.config.AtomicFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The data dir's safety rules, checked by every command before it reads a key: nobody but its owner may change what
 * kube-apiserver loads, and a key file nobody else may read. It also removes the temp copies a killed write left.
 */
public final class DataDir {
    private static final Set<PosixFilePermission> OTHERS_WRITE = EnumSet.of(PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.OTHERS_WRITE);
    private static final Set<PosixFilePermission> OTHERS_ANY = EnumSet.of(PosixFilePermission.GROUP_READ,
            PosixFilePermission.GROUP_WRITE, PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ,
            PosixFilePermission.OTHERS_WRITE, PosixFilePermission.OTHERS_EXECUTE);

    private DataDir() {
    }

    /**
     * Refuses a data dir or key file other users can write; makes a key file others can read 0600. Returns warnings
     * for the operator (what was tightened). A missing dir is fine: it is created 0700 when first written.
     */
    public static List<String> check(Path dir, Path configFile) {
        List<String> warnings = new ArrayList<>();
        if (!Files.exists(dir)) {
            return warnings;
        }
        if (!Files.isDirectory(dir)) {
            throw new StateUnavailable("the data dir " + dir + " is not a directory: pass --data-dir with a directory");
        }
        try {
            requireOwnedByUs(dir, "the data dir " + dir);
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir);
            if (!Collections.disjoint(mode, OTHERS_WRITE)) {
                throw new StateUnavailable("the data dir " + dir + " is writable by other users (mode "
                        + PosixFilePermissions.toString(mode) + "): any of them could replace the encryption config "
                        + "kube-apiserver loads. As its owner (or root) run chmod 700 " + dir + ", then run the command "
                        + "again; nothing was changed");
            }
            if (Files.exists(configFile) && !Files.isRegularFile(configFile)) {
                throw new StateUnavailable(configFile + (Files.isSymbolicLink(configFile) ? " points at "
                        + configFile.toRealPath() : "") + ", which is not a regular file (a device, FIFO or directory): "
                        + "kube-apiserver needs its encryption config there; nothing was changed");
            }
            if (Files.isSymbolicLink(configFile) && Files.exists(configFile)) {
                Path target = configFile.toRealPath();
                requireOwnedByUs(target, configFile + " (a link to " + target + ")");
                if (writableByOthersWithoutSticky(target.getParent())) {
                    throw new StateUnavailable(configFile + " links to " + target + ", in a directory other users can "
                            + "write: any of them could replace the encryption config kube-apiserver loads. Keep the "
                            + "file in a directory only root can write (chmod 700 or 755 " + target.getParent() + "), then "
                            + "run the command again; nothing was changed");
                }
            }
            if (Files.exists(configFile)) {
                Set<PosixFilePermission> file = Files.getPosixFilePermissions(configFile);
                if (!Collections.disjoint(file, OTHERS_WRITE)) {
                    throw new StateUnavailable(configFile + " is writable by other users (mode "
                            + PosixFilePermissions.toString(file) + "): any of them could change the keys kube-apiserver "
                            + "uses. Run chmod 600 " + configFile + " (as root), check that its keys are the ones you "
                            + "expect, then run the command again; nothing was changed");
                }
                if (!Collections.disjoint(file, OTHERS_ANY)) {
                    Files.setPosixFilePermissions(configFile, PosixFilePermissions.fromString("rw-------"));
                    warnings.add("warning: " + configFile + " was readable by other users (mode "
                            + PosixFilePermissions.toString(file) + "): made it 600. Anyone who read it has the keys: "
                            + "consider a rotation (prepare, rotate, reencrypt)");
                }
            }
            // every file the tool writes here atomically: a killed write's temp copy holds keys (config, state)
            AtomicFiles.removeLeftovers(configFile);
            for (String name : List.of(LocalState.STATE_FILE, Membership.CLUSTER_FILE, Membership.INSTANCE_FILE)) {
                AtomicFiles.removeLeftovers(dir.resolve(name));
            }
        } catch (IOException e) {
            throw new StateUnavailable("cannot check the data dir " + dir + ": " + OsReason.of(e) + ". Check its "
                    + "permissions, or run as root (the user kube-apiserver's files belong to)", e);
        }
        return warnings;
    }

    /** Another user who owns the data dir or the key file can change what kube-apiserver loads. */
    private static void requireOwnedByUs(Path path, String what) throws IOException {
        String owner = Files.getOwner(path).getName();
        String us = System.getProperty("user.name");
        if (!owner.equals(us) && !owner.equals("root")) {
            throw new StateUnavailable(what + " belongs to the user " + owner + ", who could change the keys "
                    + "kube-apiserver uses: it must belong to root (or to " + us + ", who runs this). Run chown as root, "
                    + "then run the command again; nothing was changed");
        }
    }

    /** Group- or world-writable without the sticky bit: anyone who may write there may replace any file in it. */
    private static boolean writableByOthersWithoutSticky(Path dir) throws IOException {
        int mode = (Integer) Files.getAttribute(dir, "unix:mode");
        return (mode & 0022) != 0 && (mode & 01000) == 0;
    }

    /** The token unwraps every key: refused when another user may read or replace its file. */
    public static void requirePrivateToken(Path tokenFile) throws IOException {
        Set<PosixFilePermission> mode = Files.getPosixFilePermissions(tokenFile);
        if (!Collections.disjoint(mode, OTHERS_ANY)) {
            throw new StateUnavailable("the token file " + tokenFile + " is open to other users (mode "
                    + PosixFilePermissions.toString(mode) + "): with it they can unwrap every key in etcd. Run chmod 600 "
                    + tokenFile + " (and consider a new token if others could read it), then run the command again");
        }
    }
}
