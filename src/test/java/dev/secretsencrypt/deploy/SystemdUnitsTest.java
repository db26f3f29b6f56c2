package dev.secretsencrypt.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.testing.ExternalTools;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every unit and drop-in in systemd/ as systemd itself reads them: {@code systemd-analyze verify} in a throw-away root
 * that holds systemd's own units, a stand-in executable at the path the units run, and a stand-in for each server
 * unit a drop-in extends (k3s, rke2-server, kube-apiserver).
 */
@Tag("unit")
class SystemdUnitsTest {
    static final Path SHIPPED = Path.of("systemd");
    static final String SYSTEMD_ANALYZE = "systemd-analyze";

    @TempDir
    Path root;

    /** What systemd-analyze printed (stdout and stderr together) and its exit code. */
    record Verdict(int exitCode, String output) {
    }

    @BeforeEach
    void aRootWithSystemdsOwnUnits() throws Exception {
        assertTrue(ExternalTools.succeeds(SYSTEMD_ANALYZE, "--version"),
                "systemd-analyze is missing: scripts/test.sh installs it (Debian: apt-get install -y systemd)");
        // verify pulls in sysinit.target and the other default dependencies: they must be inside --root
        Path own = Files.isDirectory(Path.of("/usr/lib/systemd/system")) ? Path.of("/usr/lib/systemd/system")
                : Path.of("/lib/systemd/system");
        copyTree(own, root.resolve("usr/lib/systemd/system"));
        Files.createDirectories(root.resolve("etc/systemd/system"));
    }

    @Test
    void everyShippedUnitAndDropInVerifiesWithoutAWarning() throws Exception {
        List<String> units = installShipped();
        assertTrue(units.containsAll(List.of("secrets-encrypt-agent.service", "secrets-encrypt-sync.service",
                "k3s.service", "rke2-server.service", "kube-apiserver.service")), units.toString());
        for (String unit : units) {
            Verdict v = verify(unit);
            assertEquals(0, v.exitCode(), unit + ": " + v.output());
            assertEquals("", v.output(), unit + " has warnings");
        }
        System.out.println("systemd-analyze verify: no warning for " + units);
    }

    @Test
    void aMistypedKeyInADropInIsCaught() throws Exception {
        installShipped();
        Path dropIn = root.resolve("etc/systemd/system/k3s.service.d/10-secrets-encrypt.conf");
        Files.writeString(dropIn, Files.readString(dropIn) + "RestartSecs=5\n");
        Verdict v = verify("k3s.service");
        assertTrue(v.output().contains("10-secrets-encrypt.conf:") && v.output().contains("Unknown key 'RestartSecs'"),
                v.output());
        // systemd only warns (exit 0): the empty output is what the check above relies on
        assertNotEquals("", v.output());
    }

    @Test
    void aUnitWhoseProgramIsMissingIsCaught() throws Exception {
        installShipped();
        Files.delete(root.resolve("usr/local/bin/secrets-encrypt"));
        Verdict v = verify("secrets-encrypt-agent.service");
        assertNotEquals(0, v.exitCode(), v.output());
        assertTrue(v.output().contains("/usr/local/bin/secrets-encrypt is not executable"), v.output());
    }

    @Test
    void theAgentIsHardenedWhileItStillWritesItsDataDir() throws Exception {
        installShipped();
        Verdict v = run(SYSTEMD_ANALYZE, "security", "--offline=true", "--no-pager", "--root=" + root,
                "secrets-encrypt-agent.service");
        assertEquals(0, v.exitCode(), v.output());
        Matcher level = Pattern.compile("Overall exposure level for secrets-encrypt-agent.service: ([0-9.]+) (\\w+)")
                .matcher(v.output());
        assertTrue(level.find(), v.output());
        System.out.println("systemd-analyze security: " + level.group());
        // 10 is an unhardened root service (the sync oneshot scores 9.6); systemd calls below 4.0 "OK"
        assertTrue(Double.parseDouble(level.group(1)) < 4.0, level.group());
        String agent = Files.readString(SHIPPED.resolve("secrets-encrypt-agent.service"));
        assertTrue(agent.contains("\nProtectSystem=strict\n") && agent.contains("\nReadWritePaths=/var/lib/secrets-encrypt\n")
                && agent.contains("\nStateDirectoryMode=0700\n"), "the data dir must stay writable, 0700");
    }

    /** The shipped units and drop-ins, the stand-ins they need; returns every unit name there is to verify. */
    List<String> installShipped() throws IOException {
        Path system = root.resolve("etc/systemd/system");
        Path program = root.resolve("usr/local/bin/secrets-encrypt");
        Files.createDirectories(program.getParent());
        Files.writeString(program, "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(program, PosixFilePermissions.fromString("rwxr-xr-x"));
        Set<String> units = new TreeSet<>();
        try (Stream<Path> shipped = Files.list(SHIPPED)) {
            for (Path p : shipped.sorted().toList()) {
                String name = p.getFileName().toString();
                if (name.endsWith(".service")) {
                    Files.copy(p, system.resolve(name));
                    units.add(name);
                } else if (name.endsWith(".service.d")) {
                    copyTree(p, system.resolve(name));
                    String server = name.substring(0, name.length() - ".d".length());
                    // the server's own unit, as k3s' installer or the distribution would ship it
                    Files.writeString(system.resolve(server), "[Unit]\nDescription=stand-in for " + server
                            + "\n[Service]\nExecStart=/usr/local/bin/secrets-encrypt\n");
                    units.add(server);
                }
            }
        }
        return new ArrayList<>(units);
    }

    Verdict verify(String unit) throws Exception {
        return run(SYSTEMD_ANALYZE, "verify", "--no-pager", "--root=" + root, unit);
    }

    static Verdict run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", command) + " did not finish in 60 s");
        return new Verdict(p.exitValue(), new String(out, StandardCharsets.UTF_8).strip());
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            all.forEach(p -> {
                Path target = to.resolve(from.relativize(p).toString());
                try {
                    if (Files.isSymbolicLink(p)) {
                        Files.createDirectories(target.getParent());
                        Files.createSymbolicLink(target, Files.readSymbolicLink(p));
                    } else if (Files.isDirectory(p)) {
                        Files.createDirectories(target);
                    } else {
                        Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
                    }
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
