package dev.secretsencrypt.certs;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

/** The PEM certificate files under some directories (and single files), each with its key and CA bundle beside it. */
public final class PkiFiles {
    /** Larger files are no PEM certificate anyone wrote by hand or tool; skipping them keeps a scan cheap. */
    private static final long MAX_FILE = 1 << 20;
    private static final int EXPLICIT_DEPTH = 8;

    /**
     * A directory to look in, how deep, whether its absence is the operator's error, and the key that goes with it
     * when the operator named one (the etcd client's --cert and --key).
     */
    public record Root(Path path, int depth, boolean explicit, Optional<Path> key) {
        public static Root known(Path dir, int depth) {
            return new Root(dir, depth, false, Optional.empty());
        }

        public static Root given(Path path) {
            return new Root(path, EXPLICIT_DEPTH, true, Optional.empty());
        }

        public static Root certificateWithKey(Path certificate, Optional<Path> key) {
            return new Root(certificate, 0, true, key);
        }
    }

    /** What the walk found, and what it could not read (said on stderr, never fatal). */
    public record Found(List<CertificateSource> sources, List<X509Certificate> authorities, List<String> warnings) {
    }

    /** A PATH the operator named does not exist. */
    public static final class MissingPath extends Exception {
        MissingPath(Path path) {
            super(path + " does not exist: check the path (directories are searched for PEM certificates)", null,
                    false, false);
        }
    }

    /**
     * kubeadm's /etc/kubernetes/pki (etcd/ included), k3s and RKE2 server/tls and agent dirs, the kubelet's pki dir;
     * under {@code hostRoot} ({@code /}, or where a container mounts the host). The agent dirs are read one level
     * deep only: below them lie containerd's images.
     */
    public static List<Root> knownDirectories(Path hostRoot) {
        List<Root> roots = new ArrayList<>();
        roots.add(Root.known(hostRoot.resolve("etc/kubernetes/pki"), EXPLICIT_DEPTH));
        Path rancher = hostRoot.resolve("var/lib/rancher");
        if (Files.isDirectory(rancher)) {
            try (Stream<Path> distributions = Files.list(rancher)) {
                for (Path d : distributions.sorted().toList()) {
                    roots.add(Root.known(d.resolve("server/tls"), EXPLICIT_DEPTH));
                    roots.add(Root.known(d.resolve("agent"), 1));
                }
            } catch (IOException unreadable) {
                // not root on a k3s host: the scan of the other dirs goes on, and reading them says why
                roots.add(Root.known(rancher, 1));
            }
        }
        roots.add(Root.known(hostRoot.resolve("var/lib/kubelet/pki"), 1));
        return roots;
    }

    public static Found scan(List<Root> roots) throws MissingPath {
        for (Root root : roots) {
            if (root.explicit() && !Files.exists(root.path())) {
                throw new MissingPath(root.path());
            }
        }
        List<Path> files = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        Set<Path> seen = new HashSet<>();
        Map<Path, Path> namedKeys = new HashMap<>();
        for (Root root : roots) {
            if (!Files.exists(root.path())) {
                continue; // a known directory this server does not have
            }
            if (root.key().isPresent()) {
                realPath(root.path()).ifPresent(real -> namedKeys.put(real, root.key().get()));
            }
            for (Path file : filesUnder(root, warnings)) {
                // kubelet-client-current.pem and the file it points to, or --cert inside a known dir: once
                realPath(file).filter(seen::add).ifPresent(real -> files.add(file));
            }
        }
        List<CertificateSource> sources = new ArrayList<>();
        List<X509Certificate> authorities = new ArrayList<>();
        for (Path file : files) {
            Optional<byte[]> bytes = read(file, warnings);
            if (bytes.isEmpty() || !PemContents.hasCertificate(bytes.get())) {
                continue;
            }
            PemContents contents = PemContents.parse(bytes.get());
            if (contents.certificates().isEmpty()) {
                warnings.add(file + " has a PEM certificate block that cannot be parsed: check the file");
                continue;
            }
            contents.certificates().stream().filter(Inspection::isCa).forEach(authorities::add);
            sources.add(new CertificateSource(new Location.File(file), contents.certificates(),
                    keyFor(file, contents, realPath(file).map(namedKeys::get), warnings),
                    bundleBeside(file, warnings)));
        }
        return new Found(sources, authorities, warnings);
    }

    private static List<Path> filesUnder(Root root, List<String> warnings) {
        if (!Files.isDirectory(root.path())) {
            return List.of(root.path());
        }
        List<Path> out = new ArrayList<>();
        try {
            // one unreadable subdirectory is warned about; the walk goes on with the rest
            Files.walkFileTree(root.path(), Set.of(), root.depth(), new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    if (Files.isRegularFile(file) && !superseded(file)) {
                        out.add(file);
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) {
                    warnings.add("cannot read " + file + " (" + reason(e) + "): run as root to include it");
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException unreadable) {
            warnings.add("cannot list " + root.path() + " (" + reason(unreadable) + "): run as root to include it");
        }
        out.sort(null);
        return out;
    }

    private static Optional<Path> realPath(Path file) {
        try {
            return Optional.of(file.toRealPath());
        } catch (IOException gone) {
            return Optional.empty(); // removed while we walked, or a dangling link: nothing to report
        }
    }

    /**
     * The kubelet keeps every certificate it rotated to (kubelet-client-2026-01-01-10-00-00.pem) and points
     * kubelet-client-current.pem at the one in use: only that one counts.
     */
    static boolean superseded(Path file) {
        String name = file.getFileName().toString();
        if (name.endsWith("-current.pem") || !name.endsWith(".pem")) {
            return false;
        }
        for (String family : List.of("kubelet-client", "kubelet-server")) {
            if (name.startsWith(family + "-") && Files.exists(file.resolveSibling(family + "-current.pem"))) {
                return true;
            }
        }
        return false;
    }

    private static Optional<CertificateSource.PairedKey> keyFor(Path file, PemContents contents, Optional<Path> named,
                                                                List<String> warnings) {
        if (!contents.privateKeys().isEmpty()) {
            return Optional.of(new CertificateSource.PairedKey(contents.privateKeys().get(0), file.toString()));
        }
        List<Path> candidates = new ArrayList<>();
        named.ifPresent(candidates::add);
        KeyPairing.keyNamesFor(file.getFileName().toString()).forEach(n -> candidates.add(file.resolveSibling(n)));
        for (Path key : candidates) {
            if (!Files.isRegularFile(key)) {
                continue;
            }
            Optional<PemContents> pem = read(key, warnings).filter(PemContents::hasPem).map(PemContents::parse);
            if (pem.isPresent() && !pem.get().privateKeys().isEmpty()) {
                return Optional.of(new CertificateSource.PairedKey(pem.get().privateKeys().get(0), key.toString()));
            }
        }
        return Optional.empty();
    }

    private static Optional<CertificateSource.Bundle> bundleBeside(Path file, List<String> warnings) {
        for (String name : List.of("ca.crt", "ca.pem")) {
            Path bundle = file.resolveSibling(name);
            if (bundle.equals(file) || KeyPairing.isBundleName(file.getFileName().toString())
                    || !Files.isRegularFile(bundle)) {
                continue;
            }
            Optional<PemContents> pem = read(bundle, warnings).map(PemContents::parse);
            if (pem.isPresent() && !pem.get().certificates().isEmpty()) {
                return Optional.of(new CertificateSource.Bundle(bundle.toString(), pem.get().certificates()));
            }
        }
        return Optional.empty();
    }

    private static Optional<byte[]> read(Path file, List<String> warnings) {
        try {
            if (Files.size(file) > MAX_FILE) {
                return Optional.empty();
            }
            return Optional.of(Files.readAllBytes(file));
        } catch (IOException e) {
            String warning = "cannot read " + file + " (" + reason(e) + ")" + (e instanceof AccessDeniedException
                    ? ": run as root to include it" : "");
            if (!warnings.contains(warning)) {
                warnings.add(warning);
            }
            return Optional.empty();
        }
    }

    private static String reason(Exception e) {
        return e instanceof AccessDeniedException ? "permission denied" : e.getClass().getSimpleName();
    }
}
