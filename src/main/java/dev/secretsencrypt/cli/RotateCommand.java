package dev.secretsencrypt.cli;

import dev.secretsencrypt.usecase.Session;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "rotate", mixinStandardHelpOptions = true,
        description = {"Make the prepared key the one that encrypts.", "",
                "Needs stage prepare and every server reporting that it loaded the prepared config. Then restart "
                + "every kube-apiserver and run reencrypt."})
final class RotateCommand extends StateCommand {
    @Option(names = {"-f", "--force"}, description = "Skip the stage and server hash checks (nothing else).")
    boolean force;

    @Override
    Reply run(Session session) {
        return Reply.ok(session.steps().rotate(force));
    }
}
