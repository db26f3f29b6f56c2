package dev.secretsencrypt.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every Kubernetes EncryptionConfiguration test file gets the verdict kube-apiserver gives it (the
 * "Parse+validate" column of upstream/EXPECTED.md) and, when rejected, the message it expects.
 */
@Tag("unit")
class UpstreamTestdataTest {
    static final Path UPSTREAM = Path.of("testdata", "encryption-configs", "upstream");

    /** Where our message knowingly differs from an EXPECTED.md substring: its text -> what we assert instead, and why. */
    private static final Map<String, String> DEVIATIONS = Map.of(
            // kube-apiserver's LoadEncryptionConfig wraps steps 1-4 as "error while parsing file: ..."; this tool
            // names the file and says what is wrong instead.
            "error while parsing file", "invalid encryption provider configuration file",
            // Kubernetes quotes the whole document after "in"; the document holds the keys, so we never do.
            "Object 'Kind' is missing in '<file text>'", "Object 'Kind' is missing",
            // " in scheme \"pkg/runtime/scheme.go:100\"" names a Go source line, not something an operator can use.
            " in scheme \"...\"", "is registered for version \"apiserver.config.k8s.io/v1\"",
            // The timeout bad value is a *metav1.Duration, a fmt.Stringer: apimachinery prints it unquoted.
            "resources[0].providers[0].kms.timeout: Invalid value: \"-15s\": timeout should be a positive value",
            "resources[0].providers[0].kms.timeout: Invalid value: -15s: timeout should be a positive value",
            "kms.timeout: Invalid value: \"0s\": timeout should be a positive value",
            "kms.timeout: Invalid value: 0s: timeout should be a positive value");

    record Row(String file, boolean accepted, List<String> substrings) {
        @Override
        public String toString() {
            return file;
        }
    }

    static List<Row> rows() throws IOException {
        Pattern backticks = Pattern.compile("`([^`]*)`");
        List<Row> rows = new ArrayList<>();
        for (String line : Files.readAllLines(UPSTREAM.resolve("EXPECTED.md"), StandardCharsets.UTF_8)) {
            if (!line.startsWith("| ")) {
                continue;
            }
            String[] cells = line.substring(1, line.length() - 1).split("\\|", -1);
            String file = cells[0].strip();
            if (!file.matches("(invalid-configs|valid-configs|removed-upstream-2019)/.*\\.(yaml|json)")) {
                continue;
            }
            String verdict = cells[2].strip();
            assertTrue(verdict.equals("accepted") || verdict.equals("rejected"), file + ": verdict " + verdict);
            List<String> substrings = new ArrayList<>();
            Matcher m = backticks.matcher(cells[4]);
            while (verdict.equals("rejected") && m.find()) {
                String s = m.group(1).startsWith("...") ? m.group(1).substring(3) : m.group(1);
                substrings.add(s);
            }
            rows.add(new Row(file, verdict.equals("accepted"), substrings));
        }
        return rows;
    }

    @Test
    void expectedMdCoversEveryUpstreamFileAndNothingElse() throws IOException {
        TreeSet<String> files;
        try (Stream<Path> walk = Files.walk(UPSTREAM)) {
            files = walk.filter(Files::isRegularFile).map(p -> UPSTREAM.relativize(p).toString().replace('\\', '/'))
                    .filter(p -> p.endsWith(".yaml") || p.endsWith(".json")).collect(Collectors.toCollection(TreeSet::new));
        }
        TreeSet<String> listed = rows().stream().map(Row::file).collect(Collectors.toCollection(TreeSet::new));
        assertEquals(28, files.size());
        assertEquals(files, listed);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void parseAndValidateGiveKubeApiserversVerdict(Row row) {
        Path path = UPSTREAM.resolve(row.file());
        if (row.accepted()) {
            EncryptionConfig config = readAccepted(path);
            assertFalse(config.resources().isEmpty());
            assertTrue(ConfigFiles.validate(config).isEmpty());
            return;
        }
        InvalidConfig e = assertThrows(InvalidConfig.class, () -> ConfigFiles.read(path));
        assertFalse(row.substrings().isEmpty(), row.file() + ": EXPECTED.md gives no message to check");
        for (String expected : row.substrings()) {
            String wanted = DEVIATIONS.getOrDefault(expected, expected).replace("<path>", path.toString());
            assertTrue(e.getMessage().contains(wanted), row.file() + ":\n  expected to contain: " + wanted
                    + "\n  message: " + e.getMessage());
        }
    }

    @Test
    void theDocumentIsNeverQuotedWhenKindIsMissing() {
        Path path = UPSTREAM.resolve("invalid-configs/kms/invalid-gvk.yaml");
        InvalidConfig e = assertThrows(InvalidConfig.class, () -> ConfigFiles.read(path));
        assertEquals("error decoding encryption provider configuration file \"" + path + "\": Object 'Kind' is missing",
                e.getMessage());
    }

    @Test
    void invalidTypoReportsTheExactKubernetesStrictError() {
        Path path = UPSTREAM.resolve("invalid-configs/invalid-typo.yaml");
        InvalidConfig e = assertThrows(InvalidConfig.class, () -> ConfigFiles.read(path));
        assertEquals("error decoding encryption provider configuration file \"" + path
                + "\": strict decoding error: unknown field \"resources[0].providers[3].kms.pandas\"", e.getMessage());
    }

    @Test
    void secretBoxFirstHashesAsKubernetesExpects() throws IOException {
        byte[] bytes = Files.readAllBytes(UPSTREAM.resolve("valid-configs/secret-box-first.yaml"));
        assertEquals("c638c0327dbc3276dd1fcf3e67895d19ebca16b91ae0d19af24ef0759b8e0f66", ConfigFiles.sha256Hex(bytes));
    }

    @Test
    void legacyKindParsesAndKeepsKmsFieldsAsWritten() throws InvalidConfig {
        EncryptionConfig c = ConfigFiles.read(UPSTREAM.resolve("valid-configs/legacy.yaml"));
        assertEquals("v1", c.apiVersion());
        assertEquals("EncryptionConfig", c.kind());
        assertEquals(List.of("secrets", "namespaces"), c.resources().get(0).resources());
        KmsProvider kms = (KmsProvider) c.resources().get(0).providers().get(2);
        assertEquals(new KmsProvider(null, "testprovider", "unix:///tmp/testprovider.sock", 10, null), kms);
        assertEquals("v1", kms.effectiveApiVersion());
        String canonical = new String(ConfigFiles.canonicalBytes(c), StandardCharsets.UTF_8);
        assertTrue(canonical.startsWith("{\n  \"kind\": \"EncryptionConfig\",\n  \"apiVersion\": \"v1\",\n"), canonical);
    }

    @Test
    void kmsTimeoutKeepsItsTextAndDefaultsOnlyForValidation() throws InvalidConfig {
        EncryptionConfig v2 = ConfigFiles.read(UPSTREAM.resolve("valid-configs/kms/multiple-providers-kmsv2.yaml"));
        assertEquals(new KmsProvider("v2", "foo", "unix:///tmp/testprovider.sock", null, "15s"),
                v2.resources().get(0).providers().get(0));
        EncryptionConfig defaulted = ConfigFiles.read(UPSTREAM.resolve("valid-configs/kms/default-timeout.yaml"));
        assertEquals(new KmsProvider(null, "foo", "unix:///tmp/testprovider.sock", null, null),
                defaulted.resources().get(0).providers().get(0));
    }

    @Test
    void keyedProvidersKeepFileOrder() throws InvalidConfig {
        EncryptionConfig c = ConfigFiles.read(UPSTREAM.resolve("valid-configs/aes/aes-cbc-multiple-keys-reversed.json"));
        KeyedProvider aescbc = (KeyedProvider) c.resources().get(0).providers().get(0);
        assertEquals(ProviderType.AESCBC, aescbc.type());
        assertEquals(List.of("B", "A"), aescbc.keys().stream().map(Key::name).toList());
        assertEquals(32, aescbc.keys().get(0).secretBytes().length);
    }

    private static EncryptionConfig readAccepted(Path path) {
        try {
            return ConfigFiles.read(path);
        } catch (InvalidConfig e) {
            throw new AssertionError(path + " should be accepted, got: " + e.getMessage(), e);
        }
    }
}
