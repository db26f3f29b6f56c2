package dev.secretsencrypt.cli;

import dev.secretsencrypt.node.CommandRefused;
import dev.secretsencrypt.store.ChangedConcurrently;
import dev.secretsencrypt.store.ReencryptionStore;
import dev.secretsencrypt.store.StateUnavailable;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(name = "secrets-encrypt", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = {"Rotates the keys kube-apiserver uses to encrypt Secrets at rest, safely, on every server "
                + "node of a highly available control plane.", "",
                "Rotation: prepare -> (restart every apiserver) -> rotate -> (restart) -> reencrypt."},
        subcommands = {StatusCommand.class, EnableCommand.class, DisableCommand.class, PrepareCommand.class,
                RotateCommand.class, ReencryptCommand.class, SyncCommand.class, VerifyCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "1:refused or failed (the message says what to do next)", "2:usage error"})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
    }

    static {
        // jetcd logs through SLF4J with no provider bound; its "no providers" notice is noise on every command
        System.setProperty("slf4j.internal.verbosity", "ERROR");
    }

    public static void main(String[] args) {
        System.exit(run(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs one command line with the given streams and returns its exit code: the seam tests drive. */
    public static int run(String[] args, PrintWriter out, PrintWriter err) {
        CommandLine cli = commandLine(args);
        cli.setOut(out);
        cli.setErr(err);
        cli.setExecutionExceptionHandler((e, commandLine, parsed) -> {
            err.println("Error: " + operatorMessage(e));
            err.flush();
            return 1;
        });
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

    /** Our own exceptions carry a message for the operator; anything else is named so it can be reported. */
    private static String operatorMessage(Exception e) {
        if (e instanceof CommandRefused || e instanceof StateUnavailable || e instanceof ChangedConcurrently
                || e instanceof ReencryptionStore.AlreadyRunning) {
            return e.getMessage();
        }
        return e.getMessage() + " (" + e.getClass().getSimpleName() + "); run status to see where the rotation stands, "
                + "then run the command again";
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"secrets-encrypt " + (v == null ? "dev" : v)};
        }
    }
}
