package dev.secretsencrypt.cli;

import dev.secretsencrypt.usecase.Session;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A command that opens the state, runs one use case on this node, prints its reply and closes the state. */
abstract class StateCommand implements Callable<Integer> {
    @Mixin
    NodeOptions options;

    @Spec
    CommandSpec spec;

    /** What a command prints and how it exits: a report can come with a failure (verify found unreadable values). */
    record Reply(String out, int exitCode, Optional<String> error) {
        static Reply ok(String out) {
            return new Reply(out, 0, Optional.empty());
        }

        static Reply failed(String out, String error) {
            return new Reply(out, 1, Optional.of(error));
        }
    }

    abstract Reply run(Session session) throws Exception;

    /** Where what the operator should know, but does not stop the command, is said: the error stream. */
    Consumer<String> warnings() {
        return spec.commandLine().getErr()::println;
    }

    @Override
    public Integer call() throws Exception {
        // warnings go to the command's error stream, so a script reading stdout sees results only
        try (Session session = Session.open(options.settings(), Clock.systemUTC(), new SecureRandom(), warnings())) {
            Reply reply = run(session);
            spec.commandLine().getOut().println(reply.out());
            reply.error().ifPresent(e -> spec.commandLine().getErr().println("Error: " + e));
            return reply.exitCode();
        }
    }
}
