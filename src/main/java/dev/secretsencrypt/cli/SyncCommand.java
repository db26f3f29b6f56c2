package dev.secretsencrypt.cli;

import dev.secretsencrypt.usecase.Reporting;
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
        return Reply.ok(text(session.reporting().sync(force)));
    }

    /** The file, then the report, then what the operator must know on lines of their own. */
    static String text(Reporting.SyncResult r) {
        String file = (r.written() ? "wrote " : "already up to date: ") + r.file();
        String said;
        if (r.reported() instanceof Reporting.Reported.Stored stored) {
            said = file + "; reported " + r.node() + " " + stored.report().value();
        } else if (r.reported() instanceof Reporting.Reported.NotStored failed) {
            said = file + "\nwarning: could not report " + r.node() + " " + failed.report().value() + ": " + failed.why()
                    + "\nkube-apiserver may start with this file; rotate and reencrypt stay refused until this server "
                    + "reports: run sync again once etcd takes writes";
        } else if (r.reported() instanceof Reporting.Reported.LeftToAgent agent && agent.agentProblem().isPresent()) {
            said = file + "; left the report of " + r.node() + " to its agent, which reads what kube-apiserver loaded"
                    + "\nwarning: the agent on " + r.node() + " cannot report now: " + agent.agentProblem().get()
                    + "\nrotate and reencrypt stay refused until it can: fix that (its log and /healthz say the same)";
        } else {
            said = file + "; left the report of " + r.node() + " to its agent, which reads what kube-apiserver loaded "
                    + "(stop the agent to report with sync instead)";
        }
        return said + r.retiredWriter().map(w -> "\nwarning: " + w).orElse("");
    }
}
