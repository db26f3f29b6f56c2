package dev.secretsencrypt.cli;

import dev.secretsencrypt.node.ServerNode;
import dev.secretsencrypt.store.ClusterState;
import picocli.CommandLine.Command;

@Command(name = "sync", mixinStandardHelpOptions = true,
        description = {"Writes this node's encryption-config.json from the cluster state when it differs, then",
                "reports this node's <stage>-<hash>. Run it before kube-apiserver starts (systemd ExecStartPre)."})
final class SyncCommand extends StateCommand {
    @Override
    String run(ServerNode node, ClusterState state) {
        return node.sync();
    }
}
