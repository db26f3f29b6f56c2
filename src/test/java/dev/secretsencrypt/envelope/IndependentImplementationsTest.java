package dev.secretsencrypt.envelope;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.ProviderType;
import dev.secretsencrypt.testing.ExternalTools;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Values this code seals are read back by openssl, python3-cryptography and PyNaCl (check-with-python.py).
 * Runs only where Debian's /usr/bin/python3 with those modules and openssl are installed.
 */
@Tag("unit")
class IndependentImplementationsTest {
    private static final String PYTHON = "/usr/bin/python3";

    @Test
    void javaSealedValuesDecryptWithOpensslAndPython(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isExecutable(Path.of(PYTHON)), PYTHON + " is missing");
        assumeTrue(ExternalTools.succeeds(PYTHON, "-c", "import cryptography, nacl"), "python3-cryptography or python3-nacl missing");
        assumeTrue(ExternalTools.succeeds("openssl", "version"), "openssl is missing");

        List<VectorFile.Vector> sealed = new ArrayList<>();
        Random random = new Random(42);
        int[][] keys = {{0, 16}, {0, 24}, {0, 32}, {1, 16}, {1, 24}, {1, 32}, {2, 32}};
        for (int[] k : keys) {
            ProviderType type = ProviderType.values()[k[0]];
            Key key = UnreadableValueTest.key(type.keyNameBase() + "-2026-11-22T10:54:38Z", k[1], k[1] + k[0]);
            Envelope envelope = Envelopes.of(type, key);
            for (int length : new int[] {0, 1, 15, 16, 17, 31, 32, 33, 2048, 70_000}) {
                byte[] plaintext = new byte[length];
                random.nextBytes(plaintext);
                String name = type.field() + "-" + k[1] + "-" + length;
                String etcdKey = "/registry/secrets/java/" + name;
                byte[] stored = envelope.seal(plaintext, etcdKey.getBytes(StandardCharsets.UTF_8));
                sealed.add(new VectorFile.Vector(name, type, key, etcdKey, plaintext, stored));
            }
        }
        Path file = dir.resolve("java-sealed.tsv");
        VectorFile.write(file, sealed);

        Process check = new ProcessBuilder(PYTHON, VectorFile.CHECKER.toString(), file.toString())
                .redirectErrorStream(true).start();
        String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(check.waitFor(120, TimeUnit.SECONDS), "checker timed out");

        assertEquals(0, check.exitValue(), output);
        assertTrue(output.contains("checked 70 values (aescbc 30, aesgcm 30, secretbox 10), 0 failed"), output);
    }
}
