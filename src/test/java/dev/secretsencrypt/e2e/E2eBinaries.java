package dev.secretsencrypt.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The binaries the local control plane runs: a system property, else an environment variable, else what
 * scripts/e2e-binaries.sh built into its cache at the versions scripts/e2e/*&#47;go.mod pin.
 */
final class E2eBinaries {
    private E2eBinaries() {
    }

    /** kube-apiserver: -De2e.kube-apiserver, $KUBE_APISERVER_BIN, or the cache. */
    static Path kubeApiserver() {
        return find("e2e.kube-apiserver", "KUBE_APISERVER_BIN", "kube-apiserver",
                "kube-apiserver-" + pinned("kube-apiserver", "k8s.io/kubernetes"));
    }

    /** The etcd under kube-apiserver: -De2e.etcd, $E2E_ETCD_BIN, or the cache's etcd 3.6. */
    static Path etcd() {
        return find("e2e.etcd", "E2E_ETCD_BIN", "etcd", "etcd-" + pinned("etcd-3.6", "go.etcd.io/etcd/server/v3"));
    }

    static Path cacheDir() {
        String dir = System.getenv("SECRETS_ENCRYPT_E2E_BIN_DIR");
        if (dir != null && !dir.isBlank()) {
            return Paths.get(dir);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path cache = xdg != null && !xdg.isBlank() ? Paths.get(xdg) : Paths.get(System.getProperty("user.home"), ".cache");
        return cache.resolve("secrets-encrypt-e2e");
    }

    /** The version a module dir under scripts/e2e pins for a module (its go.mod's one-line require). */
    static String pinned(String moduleDir, String module) {
        Path goMod = Paths.get("scripts", "e2e", moduleDir, "go.mod");
        try {
            Matcher m = Pattern.compile("(?m)^require " + Pattern.quote(module) + " (v\\S+)$").matcher(Files.readString(goMod));
            if (m.find()) {
                return m.group(1);
            }
            throw new IllegalStateException(goMod + " pins no version of " + module);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + goMod.toAbsolutePath() + " (run the tests from the project root)", e);
        }
    }

    private static Path find(String property, String env, String name, String cacheSubdir) {
        String fromProperty = System.getProperty(property);
        if (fromProperty != null && !fromProperty.isBlank()) {
            return executable("-D" + property, Paths.get(fromProperty));
        }
        String fromEnv = System.getenv(env);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return executable("$" + env, Paths.get(fromEnv));
        }
        Path cached = cacheDir().resolve(cacheSubdir).resolve(name);
        if (Files.isExecutable(cached)) {
            return cached;
        }
        throw new IllegalStateException("no " + name + " at " + cached + "; run scripts/e2e-binaries.sh (scripts/test.sh does) "
                + "or point -D" + property + " or $" + env + " at a binary of your own");
    }

    private static Path executable(String setting, Path p) {
        if (!Files.isExecutable(p)) {
            throw new IllegalStateException(setting + "=" + p + " is not an executable file; fix or unset it");
        }
        return p;
    }
}
