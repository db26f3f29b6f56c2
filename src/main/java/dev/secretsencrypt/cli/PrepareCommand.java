package dev.secretsencrypt.cli;

import dev.secretsencrypt.config.ProviderType;
import dev.secretsencrypt.usecase.Session;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "prepare", mixinStandardHelpOptions = true,
        description = {"Add a new key that every server can read with and none writes with yet.", "",
                "The key goes last in the encrypting provider. Needs stage start or reencrypt_finished. Then "
                + "restart every kube-apiserver and run rotate."})
final class PrepareCommand extends StateCommand {
    @Option(names = {"-f", "--force"}, description = "Skip the stage check (nothing else).")
    boolean force;

    @Option(names = "--provider", paramLabel = "TYPE", converter = ProviderTypeConverter.class,
            description = "Type of the new key: aescbc, aesgcm or secretbox. Default: the type that encrypts now")
    ProviderType provider;

    @Override
    Reply run(Session session) {
        return Reply.ok(session.steps().prepare(Optional.ofNullable(provider), force));
    }
}
