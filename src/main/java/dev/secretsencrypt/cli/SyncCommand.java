package dev.secretsencrypt.cli;

import dev.secretsencrypt.usecase.Session;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "sync", mixinStandardHelpOptions = true,
        description = {"Write this node's config from the cluster state and report what it holds.", "",
                "Writes encryption-config.json when it differs, then reports this node's <stage>-<hash>. Run it "
                + "before kube-apiserver starts (systemd ExecStartPre)."})
final class SyncCommand extends StateCommand {
    @Option(names = {"-f", "--force"}, description = "Replace this node's file even when it holds keys the cluster "
            + "state does not (only when no value was ever written with them).")
    boolean force;

    @Override
    Reply run(Session session) {
        return Reply.ok(session.node().sync(force));
    }
}
