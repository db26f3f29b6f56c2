package dev.secretsencrypt.cli;

import dev.secretsencrypt.node.ServerNode;
import dev.secretsencrypt.store.ClusterState;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** A command that opens the state, runs one use case on this node, prints its summary and closes the state. */
abstract class StateCommand implements Callable<Integer> {
    @Mixin
    NodeOptions options;

    @Spec
    CommandSpec spec;

    abstract String run(ServerNode node, ClusterState state) throws Exception;

    @Override
    public Integer call() throws Exception {
        try (ClusterState state = options.openState()) {
            spec.commandLine().getOut().println(run(options.node(state), state));
            return 0;
        }
    }
}
