package dev.secretsencrypt.config;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

@Tag("unit")
class ConfigFilesTest {
    static final Path TESTDATA = Path.of("testdata", "encryption-configs");
    static final Path INVALID = TESTDATA.resolve("invalid");
    static final Path VALID = TESTDATA.resolve("valid");

    private static final String DECODE = "error decoding encryption provider configuration file ";
    private static final String INVALID_FILE = "invalid encryption provider configuration file ";

    static Stream<Arguments> invalidExamples() {
        return Stream.of(
                arguments("aescbc-key-9-bytes.yaml", INVALID_FILE, "resources[0].providers[0].aescbc.keys[0].secret: Invalid value: \"REDACTED\": secret is not of the expected length, got 9, expected one of [16 24 32]"),
                arguments("secret-not-base64.yaml", INVALID_FILE, "resources[0].providers[0].aescbc.keys[0].secret: Invalid value: \"REDACTED\": secrets must be base64 encoded"),
                arguments("secret-without-padding.yaml", INVALID_FILE, "resources[0].providers[0].aesgcm.keys[0].secret: Invalid value: \"REDACTED\": secrets must be base64 encoded"),
                arguments("two-providers-in-one-element.yaml", INVALID_FILE, "resources[0].providers[0]: Invalid value: {aescbc, identity}: more than one provider specified in a single element, should split into different list elements"),
                arguments("empty-providers.yaml", INVALID_FILE, "resources[0].providers: Required value: at least one resources[0].providers is required"),
                arguments("missing-key-name.yaml", INVALID_FILE, "resources[0].providers[0].aescbc.keys[0].name: Required value: name is a mandatory field for a key"),
                arguments("secretbox-16-byte-key.yaml", INVALID_FILE, "resources[0].providers[0].secretbox.keys[0].secret: Invalid value: \"REDACTED\": secret is not of the expected length, got 16, expected one of [32]"),
                arguments("unknown-top-level-field.yaml", DECODE, "strict decoding error: unknown field \"metadata\""),
                arguments("unknown-field-and-wrong-case.json", DECODE, "strict decoding error: unknown field \"resources[0].Resources\""),
                arguments("duplicate-field.json", DECODE, "strict decoding error: duplicate field \"resources[0].providers[0].aescbc.keys[0].secret\""),
                arguments("duplicate-kmsv2-names.yaml", INVALID_FILE, "resources[0].providers[1].kms.name: Invalid value: \"foo\": duplicate KMS provider name foo, names must be unique"),
                arguments("kms-tcp-endpoint.yaml", INVALID_FILE, "resources[0].providers[0].kms.endpoint: Invalid value: \"tcp://127.0.0.1:8080\": unsupported scheme \"tcp\" for KMS provider, only unix is supported"),
                arguments("empty-provider-element.yaml", INVALID_FILE, "resources[0].providers[0]: Invalid value: {}: provider does not contain any of the expected providers: KMS, AESGCM, AESCBC, Secretbox, Identity"),
                arguments("identity-null.yaml", INVALID_FILE, "resources[0].providers[0]: Invalid value: {}: provider does not contain any of the expected providers"),
                arguments("identity-with-field.yaml", DECODE, "strict decoding error: unknown field \"resources[0].providers[0].identity.enabled\""),
                arguments("kmsv2-name-with-colon.yaml", INVALID_FILE, "resources[0].providers[0].kms.name: Invalid value: \"vault:transit\": invalid KMS provider name vault:transit, must not contain ':'"),
                arguments("kmsv2-cachesize.yaml", INVALID_FILE, "resources[0].providers[0].kms.cachesize: Invalid value: 10: cachesize is not supported in v2"),
                arguments("kmsv1-zero-cachesize.yaml", INVALID_FILE, "resources[0].providers[0].kms.cachesize: Invalid value: 0: cachesize should be a positive value, or negative to disable"),
                arguments("kms-missing-name.yaml", INVALID_FILE, "resources[0].providers[0].kms.name: Required value: name is a mandatory field for a provider"),
                arguments("kmsv2-negative-timeout.yaml", INVALID_FILE, "resources[0].providers[0].kms.timeout: Invalid value: -1m30s: timeout should be a positive value"),
                arguments("kms-bad-timeout.yaml", DECODE, "time: unknown unit \" parsecs\" in duration \"10 parsecs\""),
                arguments("empty-resources.yaml", INVALID_FILE, "resources: Required value: at least one resources is required"),
                arguments("rule-without-resources.yaml", INVALID_FILE, "resources[0].resources: Required value: at least one resources[0].resources is required"),
                arguments("overlapping-resources.yaml", INVALID_FILE, "resources[0].resources: Invalid value: []string{\"secrets\", \"*.\"}: using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked"),
                arguments("duplicate-resources.yaml", INVALID_FILE, "resources[0].resources: Invalid value: []string{\"secrets\", \"secrets\"}: the same resource cannot be specified multiple times"),
                arguments("unregistered-version.yaml", DECODE, "no kind \"EncryptionConfiguration\" is registered for version \"apiserver.config.k8s.io/v2\""),
                arguments("legacy-version-current-kind.yaml", DECODE, "no kind \"EncryptionConfiguration\" is registered for version \"v1\""),
                arguments("missing-apiversion.yaml", DECODE, "Object 'apiVersion' is missing"),
                arguments("key-name-is-a-number.yaml", DECODE, "json: cannot unmarshal number into Go struct field Key.resources.providers.aescbc.keys.name of type string"),
                arguments("yaml-syntax-error.yaml", DECODE, "error converting YAML to JSON: yaml: line 11: "),
                arguments("json-syntax-error.json", DECODE, "couldn't get version/kind; json parse error: "),
                arguments("multiple-errors.yaml", INVALID_FILE, ": [resources[0].providers[0].aescbc.keys[0].secret: "),
                arguments("resource-names.yaml", INVALID_FILE, "resources[0].resources[0]: Invalid value: \"Secrets\": resource name should not contain capital letters"),
                arguments("whitespace-only.yaml", "encryption provider configuration file ", "is empty"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidExamples")
    void invalidExampleIsRefusedWithKubernetesWording(String file, String prefix, String expected) {
        Path path = INVALID.resolve(file);
        InvalidConfig e = assertThrows(InvalidConfig.class, () -> ConfigFiles.read(path));
        assertTrue(e.getMessage().startsWith(prefix + "\"" + path + "\""), e.getMessage());
        assertTrue(e.getMessage().contains(expected), "expected to contain: " + expected + "\nmessage: " + e.getMessage());
    }

    @Test
    void everyInvalidExampleHasAnExpectation() throws IOException {
        Set<String> covered = invalidExamples().map(a -> (String) a.get()[0]).collect(Collectors.toSet());
        assertEquals(new TreeSet<>(listFiles(INVALID).stream().map(p -> p.getFileName().toString()).toList()), new TreeSet<>(covered));
    }

    @Test
    void severalErrorsAreAggregatedAsKubernetesDoes() {
        InvalidConfig e = assertThrows(InvalidConfig.class, () -> ConfigFiles.read(INVALID.resolve("multiple-errors.yaml")));
        List<String> expected = List.of(
                "resources[0].providers[0].aescbc.keys[0].secret: Invalid value: \"REDACTED\": secret is not of the expected length, got 8, expected one of [16 24 32]",
                "resources[0].providers[0].aescbc.keys[1].name: Required value: name is a mandatory field for a key",
                "resources[0].providers[0].aescbc.keys[1].secret: Required value: secret is a mandatory field for a key",
                "resources[0].providers[1].kms.apiVersion: Invalid value: \"v3\": unsupported apiVersion apiVersion for KMS provider, only v1 and v2 are supported");
        assertEquals(expected, e.errors());
        assertTrue(e.getMessage().endsWith(": [" + String.join(", ", expected) + "]"), e.getMessage());
    }

    @Test
    void resourceNameRulesFollowKubernetes() {
        InvalidConfig e = assertThrows(InvalidConfig.class, () -> ConfigFiles.read(INVALID.resolve("resource-names.yaml")));
        assertEquals(List.of(
                "resources[0].resources: Invalid value: []string{\"Secrets\", \"*\", \"events.events.k8s.io\", \"deployments.extensions\", \"apiserveripinfo\", \"configmaps.*\"}: using overlapping resources such as 'secrets' and '*.' in the same resource list is not allowed as they will be masked",
                "resources[0].resources[0]: Invalid value: \"Secrets\": resource name should not contain capital letters",
                "resources[0].resources[1]: Invalid value: \"*\": use '*.' to encrypt all the resources from core API group or *.* to encrypt all resources",
                "resources[0].resources[2]: Invalid value: \"events.events.k8s.io\": '*.events.k8s.io' objects are stored using the 'events' API group in etcd. Use 'events' instead in the config file",
                "resources[0].resources[3]: Invalid value: \"deployments.extensions\": 'extensions' group has been removed and cannot be used for encryption",
                "resources[0].resources[4]: Invalid value: \"apiserveripinfo\": resources which do not have REST API/s cannot be encrypted",
                "resources[0].resources[5]: Invalid value: \"configmaps.*\": encrypting the same resource across groups is not supported"),
                e.errors());
    }

    @Test
    void decodeFailuresCarryNoValidationErrors() {
        InvalidConfig e = assertThrows(InvalidConfig.class, () -> ConfigFiles.read(INVALID.resolve("unknown-top-level-field.yaml")));
        assertTrue(e.errors().isEmpty());
    }

    @Test
    void missingFileIsAReadError() {
        Path missing = TESTDATA.resolve("no-such-file.yaml");
        InvalidConfig e = assertThrows(InvalidConfig.class, () -> ConfigFiles.read(missing));
        assertEquals("error reading encryption provider configuration file \"" + missing + "\": no such file or directory", e.getMessage());
    }

    @Test
    void aSecretWrittenAsAFieldNameInsideAKeyEntryIsNeverEchoed() {
        String secret = "c2VjcmV0IGlzIHNlY3VyZSwgSSB0aGluaw==";
        for (String doc : List.of(
                "{\"kind\":\"EncryptionConfiguration\",\"apiVersion\":\"apiserver.config.k8s.io/v1\",\"resources\":[{"
                        + "\"resources\":[\"secrets\"],\"providers\":[{\"aescbc\":{\"keys\":[{\"name\":\"k\",\"" + secret
                        + "\":\"x\"}]}}]}]}",
                "kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\nresources:\n- resources: [secrets]\n"
                        + "  providers:\n  - aesgcm:\n      keys:\n      - name: k\n        " + secret + ": {a: 1}\n",
                "kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\nresources:\n- resources: [secrets]\n"
                        + "  providers:\n  - aesgcm:\n      keys:\n      - name: k\n        " + secret + ": 1\n        "
                        + secret + ": 2\n",
                "kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\nresources:\n- resources: [secrets]\n"
                        + "  providers:\n  - aesgcm:\n      keys:\n      - name: k\n        secret: " + secret + "\n      "
                        + secret + ": 1\n")) {
            InvalidConfig e = assertThrows(InvalidConfig.class, () -> ConfigFiles.parse(doc.getBytes(StandardCharsets.UTF_8),
                    "/etc/enc"));
            assertFalse(e.getMessage().contains(secret.substring(0, 8)), e.getMessage());
            assertTrue(e.getMessage().contains("keys[0]\" (a key entry holds only name and secret; the field's name is "
                    + "not shown") || e.getMessage().contains("aesgcm\" (its name is not shown: a name that long may be "
                    + "a secret"), e.getMessage());
        }
    }

    @Test
    void zeroByteInputIsEmpty() {
        InvalidConfig e = assertThrows(InvalidConfig.class, () -> ConfigFiles.parse(new byte[0], "/etc/enc.yaml"));
        assertEquals("encryption provider configuration file \"/etc/enc.yaml\" is empty", e.getMessage());
    }

    @Test
    void yamlAliasesAreRefusedRatherThanMisread() {
        String yaml = "kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\nresources:\n"
                + "  - resources: [secrets]\n    providers:\n      - aescbc:\n          keys:\n"
                + "            - name: &n key1\n              secret: c2VjcmV0IGlzIHNlY3VyZQ==\n"
                + "            - name: *n\n              secret: c2VjcmV0IGlzIHNlY3VyZQ==\n";
        InvalidConfig e = assertThrows(InvalidConfig.class, () -> ConfigFiles.parse(yaml.getBytes(StandardCharsets.UTF_8), "alias.yaml"));
        assertTrue(e.getMessage().contains("aliases"), e.getMessage());
    }

    // --- secrets never leak ---

    static List<Path> allConfigFiles() throws IOException {
        return listFiles(TESTDATA).stream().filter(p -> !p.toString().endsWith(".md")).toList();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("allConfigFiles")
    void errorMessagesNeverContainSecretText(Path file) throws IOException {
        String text = Files.readString(file, StandardCharsets.UTF_8);
        List<String> secrets = secretsIn(text);
        try {
            ConfigFiles.read(file);
        } catch (InvalidConfig e) {
            String reported = e.getMessage() + String.join("\n", e.errors());
            for (String secret : secrets) {
                assertFalse(reported.contains(secret), file + " leaks a secret: " + e.getMessage());
            }
        }
    }

    @Test
    void theLeakCheckSeesEverySecretItShould() throws IOException {
        assertTrue(secretsIn(Files.readString(INVALID.resolve("json-syntax-error.json"))).contains("anVuZ2xlLXVucXVvdGVkLXNlY3JldC12YWx1ZSEhIQ=="));
        assertTrue(secretsIn(Files.readString(INVALID.resolve("secret-not-base64.yaml"))).contains("not*base64*secret-value!"));
    }

    private static List<String> secretsIn(String text) {
        Matcher m = Pattern.compile("\"?secret\"?\\s*:\\s*['\"]?([^'\"\\s,}]+)").matcher(text);
        List<String> secrets = new ArrayList<>();
        while (m.find()) {
            if (m.group(1).length() >= 4 && !m.group(1).equals("|")) {
                secrets.add(m.group(1));
            }
        }
        return secrets;
    }

    // --- canonical form and hashes ---

    static List<Path> validFiles() throws IOException {
        List<Path> files = new ArrayList<>(listFiles(VALID));
        files.addAll(listFiles(TESTDATA.resolve("upstream")).stream()
                .filter(p -> p.toString().contains("valid-configs") && !p.toString().contains("invalid-configs")).toList());
        return files;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("validFiles")
    void canonicalBytesRoundTripEveryValidFile(Path file) throws InvalidConfig {
        EncryptionConfig config = ConfigFiles.read(file);
        byte[] canonical = ConfigFiles.canonicalBytes(config);
        EncryptionConfig reparsed = ConfigFiles.parse(canonical, "canonical");
        assertEquals(config, reparsed);
        assertArrayEquals(canonical, ConfigFiles.canonicalBytes(reparsed));
        String text = new String(canonical, StandardCharsets.UTF_8);
        assertTrue(text.startsWith("{\n  \"kind\": "), text);
        assertTrue(text.endsWith("}\n"));
        assertFalse(text.contains("\r"));
        assertTrue(ConfigFiles.validate(config).isEmpty());
    }

    @Test
    void canonicalFormIsTheGoldenFileByteForByte() throws IOException, InvalidConfig {
        Path golden = VALID.resolve("canonical-aescbc.json");
        byte[] bytes = Files.readAllBytes(golden);
        assertArrayEquals(bytes, ConfigFiles.canonicalBytes(ConfigFiles.read(golden)));
    }

    @Test
    void sameConfigHashesTheSameWhateverItsSourceFormat() throws InvalidConfig {
        String yaml = """
                # same content as aes-cbc-multiple-keys.json, written as YAML
                apiVersion: apiserver.config.k8s.io/v1
                kind: EncryptionConfiguration
                resources:
                - resources: [ignored]
                  providers:
                  - aescbc:
                      keys:
                      - {secret: "Owq7A4JrJpSjrvH8kXkvl4JmOLzvZ6j9BcGRkR8OPQ4=", name: A}
                      - name: B
                        secret: +qcnfOFX3aRXM9PuY7lQXDWYIQ3GWUdBc3nYBo91SCA=
                """;
        EncryptionConfig fromYaml = ConfigFiles.parse(yaml.getBytes(StandardCharsets.UTF_8), "inline.yaml");
        EncryptionConfig fromJson = ConfigFiles.read(TESTDATA.resolve("upstream/valid-configs/aes/aes-cbc-multiple-keys.json"));
        assertEquals(fromJson, fromYaml);
        String hash = ConfigFiles.sha256Hex(ConfigFiles.canonicalBytes(fromJson));
        assertEquals(hash, ConfigFiles.sha256Hex(ConfigFiles.canonicalBytes(fromYaml)));
        assertEquals(hash, ConfigFiles.sha256Hex(ConfigFiles.canonicalBytes(ConfigFiles.read(TESTDATA.resolve("upstream/valid-configs/aes/aes-cbc-multiple-keys.json")))));
        EncryptionConfig reversed = ConfigFiles.read(TESTDATA.resolve("upstream/valid-configs/aes/aes-cbc-multiple-keys-reversed.json"));
        assertNotEquals(hash, ConfigFiles.sha256Hex(ConfigFiles.canonicalBytes(reversed)));
    }

    @Test
    void sha256HexIsLowercaseHex() {
        assertEquals("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", ConfigFiles.sha256Hex(new byte[0]));
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                ConfigFiles.sha256Hex("abc".getBytes(StandardCharsets.US_ASCII)));
    }

    @Test
    void canonicalKmsOmitsAbsentFieldsInFixedOrder() throws InvalidConfig {
        EncryptionConfig c = EncryptionConfig.of(List.of(new ResourceRule(List.of("secrets"), List.of(
                new KmsProvider(null, "foo", "unix:///tmp/kms.sock", null, null),
                new KmsProvider("v2", "bar", "unix:///tmp/kms.sock", null, "10s")))));
        String text = new String(ConfigFiles.canonicalBytes(c), StandardCharsets.UTF_8);
        assertTrue(text.contains("\"kms\": {\n            \"name\": \"foo\",\n            \"endpoint\": \"unix:///tmp/kms.sock\"\n          }"), text);
        assertTrue(text.contains("\"apiVersion\": \"v2\",\n            \"name\": \"bar\",\n            \"endpoint\": \"unix:///tmp/kms.sock\",\n            \"timeout\": \"10s\""), text);
        assertEquals(c, ConfigFiles.parse(text.getBytes(StandardCharsets.UTF_8), "kms.json"));
    }

    // --- validate() on configs built in code ---

    @Test
    void validateJudgesConfigsBuiltInCode() {
        EncryptionConfig good = EncryptionConfig.of(List.of(new ResourceRule(List.of("secrets"), List.of(
                new KeyedProvider(ProviderType.AESCBC, List.of(Key.generate("aescbckey", new byte[32]))),
                new IdentityProvider()))));
        assertEquals(List.of(), ConfigFiles.validate(good));

        EncryptionConfig bad = EncryptionConfig.of(List.of(new ResourceRule(List.of("secrets"), List.of(
                new KeyedProvider(ProviderType.SECRETBOX, List.of(Key.generate("box", new byte[24]), new Key("", "c2VjcmV0IGlzIHNlY3VyZQ=="))),
                new KmsProvider("v2", "k", "unix:///tmp/k.sock", null, "soon")))));
        assertEquals(List.of(
                "resources[0].providers[0].secretbox.keys[0].secret: Invalid value: \"REDACTED\": secret is not of the expected length, got 24, expected one of [32]",
                "resources[0].providers[0].secretbox.keys[1].name: Required value: name is a mandatory field for a key",
                "resources[0].providers[0].secretbox.keys[1].secret: Invalid value: \"REDACTED\": secret is not of the expected length, got 16, expected one of [32]",
                "resources[0].providers[1].kms.timeout: Invalid value: \"soon\": time: invalid duration \"soon\""),
                ConfigFiles.validate(bad));
    }

    @Test
    void kmsV1NamesMayRepeatButAV2NameMustBeNewToEveryKmsProvider() {
        KmsProvider v1 = new KmsProvider(null, "same", "unix:///a.sock", null, null);
        KmsProvider v2 = new KmsProvider("v2", "same", "unix:///b.sock", null, null);
        assertEquals(List.of(), ConfigFiles.validate(EncryptionConfig.of(List.of(new ResourceRule(List.of("secrets"), List.of(v1, v1))))));
        assertEquals(List.of("resources[1].providers[0].kms.name: Invalid value: \"same\": duplicate KMS provider name same, names must be unique"),
                ConfigFiles.validate(EncryptionConfig.of(List.of(
                        new ResourceRule(List.of("secrets"), List.of(v1)),
                        new ResourceRule(List.of("configmaps"), List.of(v2))))));
    }

    @Test
    void kmsEndpointFollowsGoUrlParsing() {
        assertEquals(List.of("resources[0].providers[0].kms.endpoint: Invalid value: \"/tmp/kms.sock\": unsupported scheme \"\" for KMS provider, only unix is supported"),
                ConfigFiles.validate(kmsAt("/tmp/kms.sock")));
        assertEquals(List.of("resources[0].providers[0].kms.endpoint: Invalid value: \"unix:///tmp/%zz.sock\": invalid endpoint for kms provider, error: parse \"unix:///tmp/%zz.sock\": invalid URL escape \"%zz\""),
                ConfigFiles.validate(kmsAt("unix:///tmp/%zz.sock")));
        assertEquals(List.of("resources[0].providers[0].kms.endpoint: Invalid value: \":x\": invalid endpoint for kms provider, error: parse \":x\": missing protocol scheme"),
                ConfigFiles.validate(kmsAt(":x")));
        assertEquals(List.of(), ConfigFiles.validate(kmsAt("UNIX:///tmp/kms.sock")));
        assertEquals(List.of(), ConfigFiles.validate(kmsAt("unix:@abstract")));
    }

    private static EncryptionConfig kmsAt(String endpoint) {
        return EncryptionConfig.of(List.of(new ResourceRule(List.of("secrets"),
                List.of(new KmsProvider("v2", "k", endpoint, null, null)))));
    }

    @Test
    void wrappedYamlSecretDecodesAsGoWould() throws InvalidConfig {
        EncryptionConfig c = ConfigFiles.read(VALID.resolve("wrapped-secret.yaml"));
        Key key = ((KeyedProvider) c.resources().get(0).providers().get(0)).keys().get(0);
        assertArrayEquals("secret is secure".getBytes(StandardCharsets.US_ASCII), key.secretBytes());
    }

    @Test
    void legacyKindInJsonParses() throws InvalidConfig {
        EncryptionConfig c = ConfigFiles.read(VALID.resolve("legacy-kind.json"));
        assertEquals("v1", c.apiVersion());
        assertEquals("EncryptionConfig", c.kind());
    }

    static List<Path> listFiles(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).sorted().toList();
        }
    }
}
