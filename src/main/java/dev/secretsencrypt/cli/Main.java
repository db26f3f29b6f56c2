package dev.secretsencrypt.cli;

import dev.secretsencrypt.failure.OperatorError;
import dev.secretsencrypt.failure.PartlyDone;
import dev.secretsencrypt.failure.StateUnavailable;
import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "secrets-encrypt", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Rotates the keys kube-apiserver uses to encrypt Secrets at rest, safely, on every server "
                + "node of a highly available control plane.", "",
                "Rotation: prepare -> (restart every apiserver) -> rotate -> (restart) -> reencrypt."},
        subcommands = {StatusCommand.class, EnableCommand.class, DisableCommand.class, PrepareCommand.class,
                RotateCommand.class, ReencryptCommand.class, RotateKeysCommand.class, SyncCommand.class, AgentCommand.class, VerifyCommand.class, NodesCommand.class,
                CertsCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:refused or failed (the message says what to do next)", "2:usage error"})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    // the shared options are accepted before the command too (secrets-encrypt -d X status); carried to it on execute
    @CommandLine.Mixin
    NodeOptions options;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    // Held here: java.util.logging keeps loggers weakly, and a collected logger forgets its level.
    private static final List<Logger> LIBRARY_LOGGERS = List.of(Logger.getLogger("io.grpc"), Logger.getLogger("io.netty"),
            Logger.getLogger("io.etcd"));

    static {
        // jetcd logs through SLF4J with no provider bound; its "no providers" notice is noise on every command
        System.setProperty("slf4j.internal.verbosity", "ERROR");
    }

    /**
     * gRPC and netty log through java.util.logging to stderr ("Received data on closed stream" by the hundred): off
     * unless asked for with SECRETS_ENCRYPT_DEBUG=1; they never log a value.
     */
    private static boolean debug(Map<String, String> environment) {
        boolean debug = environment.get("SECRETS_ENCRYPT_DEBUG") != null;
        LIBRARY_LOGGERS.forEach(l -> l.setLevel(debug ? Level.FINE : Level.OFF));
        return debug;
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs one command line with the given streams and returns its exit code: the seam tests drive. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        return run(args, out, err, System.getenv());
    }

    /** As above, with the environment the options read (SECRETS_ENCRYPT_*, ETCDCTL_*): tests pass their own. */
    static int run(String[] args, PrintWriter out, PrintWriter err, Map<String, String> environment) {
        boolean debug = debug(environment);
        CommandLine cli = commandLine(args);
        cli.setOut(out);
        cli.setErr(err);
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        try {
            cli.setDefaultValueProvider(NodeConfigFile.load(args, environment));
        } catch (NodeConfigFile.Unusable e) {
            err.println("Error: " + e.getMessage());
            err.flush();
            return e.exitCode;
        }
        cli.setParameterExceptionHandler(Main::usageError);
        cli.setExecutionStrategy(parsed -> {
            carryOptionsToTheCommand(parsed);
            parsed.asCommandLineList().stream().flatMap(c -> c.getCommandSpec().mixins().values().stream())
                    .map(CommandLine.Model.CommandSpec::userObject).filter(NodeOptions.class::isInstance)
                    .forEach(o -> ((NodeOptions) o).environment = environment);
            return new CommandLine.RunLast().execute(parsed);
        });
        // the one place an error becomes the Error: line and the exit code
        cli.setExecutionExceptionHandler((e, commandLine, parsed) -> {
            err.println("Error: " + operatorMessage(e));
            if (!(e instanceof OperatorError) && debug) {
                e.printStackTrace(err);
            }
            err.flush();
            return commandLine.getExitCodeExceptionMapper().getExitCode(e);
        });
        cli.setExitCodeExceptionMapper(e -> e instanceof CommandLine.ParameterException ? EXIT_USAGE
                : e instanceof PartlyDone ? EXIT_PARTLY_DONE : e instanceof OperatorError ? EXIT_REFUSED : EXIT_BUG);
        return cli.execute(args);
    }

    /**
     * Start-up: picocli reflects every subcommand's options when it is built (a third of a `status`); a command line
     * naming a subcommand gets a tree holding only that one. Anything else (help, usage, --version) gets the full tree.
     */
    private static CommandLine commandLine(String[] args) {
        Command main = Main.class.getAnnotation(Command.class);
        for (Class<?> sub : main.subcommands()) {
            Command named = sub.getAnnotation(Command.class);
            if (args.length > 0 && sub != CommandLine.HelpCommand.class
                    && (named.name().equals(args[0]) || List.of(named.aliases()).contains(args[0]))) {
                CommandLine top = new CommandLine(CommandLine.Model.CommandSpec.create().name(main.name()));
                return top.addSubcommand(new CommandLine(sub));
            }
        }
        return new CommandLine(new Main());
    }

    /** One line saying what is wrong, then the command's one-line usage: not the 40 lines of its help. */
    private static int usageError(CommandLine.ParameterException e, String[] args) {
        CommandLine command = e.getCommandLine();
        PrintWriter err = command.getErr();
        err.println("Error: " + StateUnavailable.readable(String.valueOf(e.getMessage())) + notTyped(e, args));
        // a mistyped command gets picocli's "Did you mean"; a mistyped option's guesses are mostly noise
        if (e instanceof CommandLine.UnmatchedArgumentException u && !u.getUnmatched().isEmpty()
                && !u.getUnmatched().get(0).startsWith("-")) {
            u.printSuggestions(err);
        }
        CommandLine.Model.UsageMessageSpec usage = command.getCommandSpec().usageMessage();
        boolean abbreviated = usage.abbreviateSynopsis();
        usage.abbreviateSynopsis(true);
        err.print("Usage: " + command.getHelp().synopsis(0));
        usage.abbreviateSynopsis(abbreviated);
        err.println("Run '" + command.getCommandSpec().qualifiedName() + " --help' for more.");
        err.flush();
        return EXIT_USAGE;
    }

    /** A bad value the operator did not type names where it came from: the environment or the configuration file. */
    private static String notTyped(CommandLine.ParameterException e, String[] args) {
        if (!(e.getArgSpec() instanceof CommandLine.Model.OptionSpec option)
                || !(e.getCommandLine().getDefaultValueProvider() instanceof NodeConfigFile file)) {
            return "";
        }
        boolean typed = java.util.Arrays.stream(args).anyMatch(a -> java.util.Arrays.stream(option.names())
                .anyMatch(n -> a.equals(n) || a.startsWith(n + "=") || (!n.startsWith("--") && a.startsWith(n))));
        return typed ? "" : file.source(option).map(s -> " (set by " + s + ")").orElse("");
    }

    /** An option given before the command counts as given to it, unless the command line gives it there too. */
    private static void carryOptionsToTheCommand(CommandLine.ParseResult top) {
        List<CommandLine.ParseResult> chain = new java.util.ArrayList<>();
        for (CommandLine.ParseResult sub = top.subcommand(); sub != null; sub = sub.subcommand()) {
            chain.add(sub);
        }
        for (CommandLine.Model.OptionSpec given : top.matchedOptions()) {
            if (given.usageHelp() || given.versionHelp()) {
                continue;
            }
            for (CommandLine.ParseResult sub : chain) {
                CommandLine.Model.OptionSpec same = sub.commandSpec().findOption(given.longestName());
                if (same != null && !sub.hasMatchedOption(given.longestName())) {
                    same.setValue(given.getValue());
                }
            }
        }
    }

    static final int EXIT_USAGE = 2;
    static final int EXIT_REFUSED = 1;
    /** verify: every value is readable, but some are plaintext or under an older key (run reencrypt). */
    static final int EXIT_NOT_UNDER_ACTIVE_KEY = 3;
    /** The cluster state changed, this server's file did not: the message says so and to run sync. */
    static final int EXIT_PARTLY_DONE = 4;
    // A bug exits 1 too: scripts know 0, 1 (refused or failed) and 2 (usage); the message says it is a bug.
    static final int EXIT_BUG = 1;

    /** An operator error carries its message; anything else is a bug, said so, without class names. */
    private static String operatorMessage(Exception e) {
        if (e instanceof OperatorError) {
            return e.getMessage();
        }
        return "unexpected failure (a bug in secrets-encrypt, please report it): " + StateUnavailable.readable(
                String.valueOf(e.getMessage())) + ". Run status to see where the rotation stands, then run the command "
                + "again (SECRETS_ENCRYPT_DEBUG=1 shows the details)";
    }

    /** The version and commit the build wrote into version.properties; "unknown" outside a git checkout. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() throws java.io.IOException {
            java.util.Properties built = new java.util.Properties();
            try (java.io.InputStream in = Main.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    built.load(in);
                }
            }
            String version = filled(built.getProperty("version")).orElse("dev");
            String commit = filled(built.getProperty("commit")).orElse("unknown");
            return new String[] {"secrets-encrypt " + version, "commit " + commit};
        }

        /** A property the build did not fill still reads "${...}". */
        private static java.util.Optional<String> filled(String value) {
            return java.util.Optional.ofNullable(value).filter(v -> !v.isBlank() && !v.startsWith("${"));
        }
    }
}
