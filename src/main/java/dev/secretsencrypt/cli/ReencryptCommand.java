package dev.secretsencrypt.cli;

import dev.secretsencrypt.node.ServerNode;
import dev.secretsencrypt.store.ClusterState;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "reencrypt", mixinStandardHelpOptions = true,
        description = {"Rewrite stored values under the active key in etcd, then retire unused old keys.", "",
                "Byte-compatible with kube-apiserver; a concurrent apiserver write wins and is retried. Needs "
                + "stage rotate and every server on the current config. An interrupted run resumes from its "
                + "checkpoint when run again."})
final class ReencryptCommand extends StateCommand {
    @Option(names = {"-f", "--force"}, description = "Skip the stage and server hash checks (nothing else).")
    boolean force;

    @Option(names = "--skip", description = "Rewrite, but remove no key; return to the stage before.")
    boolean skip;

    @Option(names = "--async", description = "Only record the request (stage reencrypt_request); a later reencrypt "
            + "on any server, or the agent, carries it out.")
    boolean async;

    @Option(names = "--resources", split = ",", paramLabel = "RESOURCE",
            description = "Only these resources (e.g. secrets,configmaps,widgets.example.com); needed when the "
                    + "config names a wildcard. Default: every resource the config names")
    List<String> resources;

    @Override
    String run(ServerNode node, ClusterState state) throws Exception {
        return options.reencryption(node, state, resources).reencrypt(force, skip, async);
    }
}
