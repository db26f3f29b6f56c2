package dev.secretsencrypt.cli;

import dev.secretsencrypt.config.OsReason;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.secretsencrypt.config.BoundedFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import picocli.CommandLine.Command;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The node configuration file, {@code /etc/secrets-encrypt/config.yaml}: any long option by its long name, as k3s and
 * rke2 read {@code /etc/rancher/*}{@code /config.yaml}, so a bare command on a server node acts on the cluster.
 * Precedence: flag, then environment, then this file, then the built-in default.
 */
final class NodeConfigFile implements IDefaultValueProvider {
    static final Path DEFAULT_PATH = Path.of("/etc/secrets-encrypt/config.yaml");
    static final String PATH_VARIABLE = "SECRETS_ENCRYPT_CONFIG";

    /** The environment variables an option reads, first set wins; the ETCDCTL_ ones are etcdctl's own. */
    static final Map<String, List<String>> ENVIRONMENT = Map.of(
            "--data-dir", List.of("SECRETS_ENCRYPT_DATA_DIR"),
            "--node-name", List.of("NODE_NAME"),
            "--endpoints", List.of("SECRETS_ENCRYPT_ENDPOINTS", "ETCDCTL_ENDPOINTS"),
            "--cacert", List.of("ETCDCTL_CACERT"),
            "--cert", List.of("ETCDCTL_CERT"),
            "--key", List.of("ETCDCTL_KEY"));

    /** Never read from the file: a secret belongs in its own 0600 file (token-file), the path is read before parsing. */
    private static final Set<String> NOT_IN_THE_FILE = Set.of("token", "config", "help", "version");

    /** The file could not be used; nothing ran. */
    static final class Unusable extends RuntimeException {
        private static final long serialVersionUID = 1L;
        final int exitCode;

        Unusable(String message, int exitCode) {
            super(message);
            this.exitCode = exitCode;
        }
    }

    private final Map<String, String> environment;
    private final Optional<Path> file;
    private final Map<String, String> values;

    private NodeConfigFile(Map<String, String> environment, Optional<Path> file, Map<String, String> values) {
        this.environment = environment;
        this.file = file;
        this.values = values;
    }

    /** The file named by --config, else SECRETS_ENCRYPT_CONFIG, else the default path (which may be absent). */
    static NodeConfigFile load(String[] args, Map<String, String> environment) {
        Optional<Path> named = named(args).or(() -> Optional.ofNullable(environment.get(PATH_VARIABLE))
                .filter(s -> !s.isBlank())).map(Path::of);
        Path path = named.orElse(DEFAULT_PATH);
        if (named.isEmpty() && !Files.exists(path)) {
            return new NodeConfigFile(environment, Optional.empty(), Map.of());
        }
        return new NodeConfigFile(environment, Optional.of(path), read(path, knownKeys()));
    }

    Optional<Path> file() {
        return file;
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!(arg instanceof OptionSpec option)) {
            return null;
        }
        for (String variable : ENVIRONMENT.getOrDefault(option.longestName(), List.of())) {
            String value = environment.get(variable);
            if (value != null && !value.isBlank()) {
                return value;
            }
        }
        return values.get(option.longestName().replaceFirst("^--", ""));
    }

    /** Where an option's value came from when the command line did not give it: for a bad value's error line. */
    Optional<String> source(OptionSpec option) {
        for (String variable : ENVIRONMENT.getOrDefault(option.longestName(), List.of())) {
            String value = environment.get(variable);
            if (value != null && !value.isBlank()) {
                return Optional.of("the environment variable " + variable);
            }
        }
        String key = option.longestName().replaceFirst("^--", "");
        return file.filter(f -> values.containsKey(key)).map(f -> "\"" + key + "\" in the node configuration file " + f);
    }

    /** {@code --config FILE} or {@code --config=FILE}, wherever it stands; read before picocli parses the rest. */
    private static Optional<String> named(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--")) {
                break;
            }
            if (args[i].equals("--config")) {
                if (i + 1 >= args.length) {
                    throw new Unusable("--config needs a file name: --config /etc/secrets-encrypt/config.yaml",
                            Main.EXIT_USAGE);
                }
                return Optional.of(args[i + 1]);
            }
            if (args[i].startsWith("--config=")) {
                return Optional.of(args[i].substring("--config=".length()));
            }
        }
        return Optional.empty();
    }

    /**
     * Every long option any command declares: `warn` is fine in the file although only certs reads it. Read from the
     * annotations, not from the command line being run: that may hold one subcommand only (start-up time).
     */
    static Set<String> knownKeys() {
        Set<String> keys = new TreeSet<>();
        collect(Main.class, keys);
        keys.removeAll(NOT_IN_THE_FILE);
        return keys;
    }

    private static void collect(Class<?> command, Set<String> keys) {
        for (Class<?> c = command; c != null && c != Object.class; c = c.getSuperclass()) {
            for (Field field : c.getDeclaredFields()) {
                Option option = field.getAnnotation(Option.class);
                if (option != null) {
                    Arrays.stream(option.names()).filter(n -> n.startsWith("--")).forEach(n -> keys.add(n.substring(2)));
                }
                if (field.isAnnotationPresent(Mixin.class)) {
                    collect(field.getType(), keys);
                }
            }
        }
        Command annotation = command.getAnnotation(Command.class);
        if (annotation != null) {
            Arrays.stream(annotation.subcommands()).filter(sub -> sub != command).forEach(sub -> collect(sub, keys));
        }
    }

    private static Map<String, String> read(Path path, Set<String> known) {
        byte[] bytes;
        try {
            requireNotWritableByOthers(path);
            bytes = BoundedFiles.read(path, BoundedFiles.SMALL_LIMIT);
        } catch (NoSuchFileException e) {
            throw new Unusable("the node configuration file " + path + " does not exist: create it (see the README, "
                    + "\"Node configuration file\") or drop --config / SECRETS_ENCRYPT_CONFIG", Main.EXIT_USAGE);
        } catch (AccessDeniedException e) {
            throw new Unusable("cannot read the node configuration file " + path + ": permission denied. Run as root "
                    + "(or the user that owns it)", Main.EXIT_REFUSED);
        } catch (IOException e) {
            throw new Unusable("cannot read the node configuration file " + path + ": " + OsReason.of(e),
                    Main.EXIT_REFUSED);
        }
        JsonNode root;
        try {
            root = new YAMLMapper().readTree(new String(bytes, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            // the location only: a parser's message may quote the text, and the text may be a secret typed by mistake
            throw new Unusable("the node configuration file " + path + " is not valid YAML (line "
                    + e.getLocation().getLineNr() + "): fix it, it holds options by their long name, e.g. "
                    + "\"endpoints: [https://10.0.0.11:2379]\"", Main.EXIT_USAGE);
        }
        Map<String, String> values = new LinkedHashMap<>();
        if (root == null || root.isNull() || root.isMissingNode()) {
            return values;
        }
        if (!root.isObject()) {
            throw new Unusable("the node configuration file " + path + " must be a mapping of option names to values, "
                    + "e.g. \"data-dir: /var/lib/secrets-encrypt\"", Main.EXIT_USAGE);
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> field = it.next();
            String key = field.getKey();
            if (key.equals("token")) {
                throw new Unusable("the node configuration file " + path + " sets \"token\": a secret does not belong "
                        + "there; put the token in a file of mode 600 and set \"token-file\" instead", Main.EXIT_USAGE);
            }
            if (!known.contains(key)) {
                throw new Unusable("the node configuration file " + path + " sets \"" + key + "\", which is no "
                        + "option of secrets-encrypt: use an option's long name without the dashes (see --help)",
                        Main.EXIT_USAGE);
            }
            Optional<String> value = text(field.getValue());
            if (value.isEmpty() && !field.getValue().isNull()) {
                throw new Unusable("the node configuration file " + path + " sets \"" + key + "\" to a mapping: give "
                        + "a value, or a list for endpoints", Main.EXIT_USAGE);
            }
            value.ifPresent(v -> values.put(key, v));
        }
        return values;
    }

    /** A scalar as written; a list of scalars as picocli's comma-separated form (endpoints: [a, b]). */
    private static Optional<String> text(JsonNode value) {
        if (value.isNull()) {
            return Optional.empty();
        }
        if (value.isValueNode()) {
            return Optional.of(value.asText());
        }
        if (value.isArray()) {
            List<String> items = new ArrayList<>();
            for (JsonNode item : value) {
                if (!item.isValueNode()) {
                    return Optional.empty();
                }
                items.add(item.asText());
            }
            return Optional.of(String.join(",", items));
        }
        return Optional.empty();
    }

    /** Anyone who can write this file chooses the etcd and the token file every command trusts. */
    private static void requireNotWritableByOthers(Path path) throws IOException {
        Set<PosixFilePermission> mode;
        try {
            mode = Files.getPosixFilePermissions(path);
        } catch (UnsupportedOperationException e) {
            return;
        }
        if (mode.contains(PosixFilePermission.OTHERS_WRITE) || mode.contains(PosixFilePermission.GROUP_WRITE)) {
            throw new Unusable("the node configuration file " + path + " is writable by other users, who could point "
                    + "every command at another etcd: chmod 644 " + path + " (owned by root)", Main.EXIT_REFUSED);
        }
    }
}
