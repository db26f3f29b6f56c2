package dev.secretsencrypt.cli;

import dev.secretsencrypt.usecase.Session;
import picocli.CommandLine.Command;

@Command(name = "disable", mixinStandardHelpOptions = true,
        description = {"Write new values as plaintext (identity moves to the front).", "",
                "Every key stays so existing data stays readable. Restart kube-apiserver, then run reencrypt -f "
                + "--skip to decrypt the stored data."})
final class DisableCommand extends StateCommand {
    @Override
    Reply run(Session session) {
        return Reply.ok(session.steps().disable());
    }
}
