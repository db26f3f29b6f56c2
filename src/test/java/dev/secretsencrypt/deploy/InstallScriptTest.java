package dev.secretsencrypt.deploy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** scripts/install.sh into a temp root, as an operator runs it on a server: modes, what it keeps, what it prints. */
@Tag("unit")
class InstallScriptTest {
    static final Path SCRIPT = Path.of("scripts/install.sh").toAbsolutePath();

    @TempDir
    Path tmp;
    Path root;
    Path jar;

    record Run(int exitCode, String output) {
    }

    @BeforeEach
    void aJarToInstall() throws IOException {
        root = tmp.resolve("root");
        jar = tmp.resolve("secrets-encrypt.jar");
        writeLauncherJar(jar);
    }

    @Test
    void aFirstInstallLaysOutTheToolTheUnitsAndAPrivateToken() throws Exception {
        Run first = install();
        assertEquals(0, first.exitCode(), first.output());
        assertEquals("rwx------", mode("var/lib/secrets-encrypt"));
        assertEquals("rw-------", mode("var/lib/secrets-encrypt/token"));
        assertEquals("rwxr-xr-x", mode("usr/local/bin/secrets-encrypt"));
        assertEquals("rw-r--r--", mode("usr/local/lib/secrets-encrypt/secrets-encrypt.jar"));
        assertEquals("rw-r--r--", mode("etc/systemd/system/secrets-encrypt-agent.service"));
        assertEquals("rw-r--r--", mode("etc/systemd/system/secrets-encrypt-sync.service"));
        assertEquals("rw-r--r--", mode("etc/secrets-encrypt/config.yaml"));
        for (String server : List.of("k3s", "rke2-server", "kube-apiserver")) {
            assertTrue(Files.isRegularFile(root.resolve("usr/local/share/doc/secrets-encrypt/examples/" + server
                    + ".service.d/10-secrets-encrypt.conf")), server);
        }
        assertFalse(Files.exists(root.resolve("etc/systemd/system/k3s.service.d")), "a drop-in only when asked");
        assertArrayEquals(Files.readAllBytes(Path.of("systemd/config.yaml")),
                Files.readAllBytes(root.resolve("etc/secrets-encrypt/config.yaml")));

        String token = Files.readString(root.resolve("var/lib/secrets-encrypt/token")).strip();
        assertEquals(32, Base64.getDecoder().decode(token).length, "32 random bytes, base64");
        assertFalse(first.output().contains(token), "the token was printed");
        assertFalse(first.output().contains(token.substring(0, 12)), "part of the token was printed");
        assertTrue(first.output().contains("created    /var/lib/secrets-encrypt/token (0600"), first.output());
        assertTrue(first.output().contains("systemctl enable --now secrets-encrypt-agent"), first.output());

        // the installed launcher finds the installed jar (a jar that runs the tool from this build)
        Run version = run(Map.of("PATH", javaBin() + File.pathSeparator + System.getenv("PATH")),
                root.resolve("usr/local/bin/secrets-encrypt").toString(), "--version");
        assertEquals(0, version.exitCode(), version.output());
        assertTrue(version.output().startsWith("secrets-encrypt "), version.output());
        System.out.println(first.output());
    }

    @Test
    void aSecondRunChangesNothingAndTheOperatorsConfigAndTokenAreKept() throws Exception {
        Path config = root.resolve("etc/secrets-encrypt/config.yaml");
        Path token = root.resolve("var/lib/secrets-encrypt/token");
        Files.createDirectories(config.getParent());
        Files.writeString(config, "endpoints: https://10.0.0.11:2379\n");
        Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-------"));
        Files.createDirectories(token.getParent(), PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.writeString(token, "K10the-first-servers-token\n");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
        long tokenTime = Files.getLastModifiedTime(token).toMillis();

        Run first = install();
        assertEquals(0, first.exitCode(), first.output());
        assertTrue(first.output().contains("kept       /etc/secrets-encrypt/config.yaml"), first.output());
        assertTrue(first.output().contains("kept       /var/lib/secrets-encrypt/token (exists)"), first.output());
        assertTrue(first.output().contains("made 0700  /var/lib/secrets-encrypt"), first.output());
        assertEquals("rwx------", mode("var/lib/secrets-encrypt"));

        Run second = install("--dropin", "rke2-server");
        assertEquals(0, second.exitCode(), second.output());
        List<String> changed = second.output().lines().filter(l -> l.matches("(installed|updated|created|made) .*"))
                .toList();
        assertEquals(List.of("installed  /etc/systemd/system/rke2-server.service.d/10-secrets-encrypt.conf"), changed,
                second.output());
        assertTrue(second.output().contains("systemctl daemon-reload && systemctl restart rke2-server"), second.output());

        assertEquals("endpoints: https://10.0.0.11:2379\n", Files.readString(config));
        assertEquals("rw-------", mode("etc/secrets-encrypt/config.yaml"));
        assertEquals("K10the-first-servers-token\n", Files.readString(token));
        assertEquals(tokenTime, Files.getLastModifiedTime(token).toMillis());
        assertFalse((first.output() + second.output()).contains("K10the-first"), "the token was printed");
    }

    @Test
    void aServerThatTakesTheFirstServersTokenGetsNoneMadeAndWrongInputSaysWhatToGive() throws Exception {
        Run noToken = install("--no-token");
        assertEquals(0, noToken.exitCode(), noToken.output());
        assertFalse(Files.exists(root.resolve("var/lib/secrets-encrypt/token")));
        assertTrue(noToken.output().contains("copy the first server's token here (mode 600)"), noToken.output());

        Run unknown = install("--dropin", "k8s");
        assertEquals(2, unknown.exitCode(), unknown.output());
        assertTrue(unknown.output().startsWith("Error: there is no sync drop-in for 'k8s': choose k3s, rke2-server or "
                + "kube-apiserver"), unknown.output());
        Run missing = run(Map.of(), SCRIPT.toString(), "--root", root.toString(), "--jar", tmp.resolve("nope.jar")
                .toString());
        assertEquals(1, missing.exitCode(), missing.output());
        assertTrue(missing.output().contains("nope.jar does not exist: build it with 'mvn -B -q -DskipTests package'"),
                missing.output());
    }

    Run install(String... more) throws Exception {
        List<String> command = new ArrayList<>(List.of(SCRIPT.toString(), "--root", root.toString(), "--jar",
                jar.toString()));
        command.addAll(List.of(more));
        return run(Map.of(), command.toArray(String[]::new));
    }

    String mode(String path) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(root.resolve(path)));
    }

    static String javaBin() {
        return Path.of(System.getProperty("java.home"), "bin").toString();
    }

    static Run run(Map<String, String> environment, String... command) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.environment().putAll(environment);
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", command) + " did not finish in 60 s");
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    /**
     * A jar that runs this build's Main: only a manifest, naming the test class path (the shaded jar is made after
     * the tests, in the package phase).
     */
    static void writeLauncherJar(Path jar) throws IOException {
        Manifest manifest = new Manifest();
        Attributes main = manifest.getMainAttributes();
        main.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        main.put(Attributes.Name.MAIN_CLASS, "dev.secretsencrypt.cli.Main");
        main.put(Attributes.Name.CLASS_PATH, java.util.Arrays.stream(System.getProperty("java.class.path")
                .split(File.pathSeparator)).map(p -> Path.of(p).toUri().toString()).collect(Collectors.joining(" ")));
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream ignored = new JarOutputStream(out, manifest)) {
            // the manifest is the whole jar
        }
    }
}
