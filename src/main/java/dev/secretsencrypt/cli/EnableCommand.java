package dev.secretsencrypt.cli;

import dev.secretsencrypt.config.ProviderType;
import dev.secretsencrypt.usecase.Session;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "enable", mixinStandardHelpOptions = true,
        description = {"Encrypt new writes (identity moves to the end).", "",
                "Creates the first key when there is no config; adopts an existing, valid encryption-config.json "
                + "instead of replacing it. Never drops a provider or a key. Restart kube-apiserver, then run "
                + "reencrypt."})
final class EnableCommand extends StateCommand {
    @Option(names = "--provider", paramLabel = "TYPE", defaultValue = "aescbc", converter = ProviderTypeConverter.class,
            description = "Type of a created key: aescbc, aesgcm or secretbox. Default: ${DEFAULT-VALUE}")
    ProviderType provider;

    @Override
    Reply run(Session session) {
        return Reply.ok(session.steps().enable(provider));
    }
}
