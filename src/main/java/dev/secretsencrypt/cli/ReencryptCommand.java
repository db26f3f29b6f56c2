package dev.secretsencrypt.cli;

import dev.secretsencrypt.usecase.ReencryptRequest;
import dev.secretsencrypt.usecase.Session;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "reencrypt", mixinStandardHelpOptions = true,
        description = {"Rewrite stored values under the active key in etcd, then retire unused old keys.", "",
                "Byte-compatible with kube-apiserver; a concurrent apiserver write wins and is retried. Needs "
                + "stage rotate and every server on the current config. An interrupted run resumes from its "
                + "checkpoint when run again."})
final class ReencryptCommand extends StateCommand {
    @Option(names = {"-f", "--force"}, description = "Skip the stage-order check (nothing else: retiring a key still needs every server on the "
            + "current config).")
    boolean force;

    @Option(names = "--skip", description = "Rewrite, but remove no key; return to the stage before.")
    boolean skip;

    @Option(names = "--async", description = "Only record the request (stage reencrypt_request); a later reencrypt "
            + "on any server carries it out.")
    boolean async;

    @Option(names = "--resources", split = ",", paramLabel = "RESOURCE",
            description = "Only these resources (e.g. secrets,configmaps,widgets.example.com); needed when the "
                    + "config names a wildcard. Default: every resource the config names")
    List<String> resources;

    @Override
    Reply run(Session session) throws Exception {
        ReencryptRequest request = new ReencryptRequest(
                force ? ReencryptRequest.StageCheck.SKIPPED : ReencryptRequest.StageCheck.REQUIRED,
                skip ? ReencryptRequest.Keys.KEEP_ALL : ReencryptRequest.Keys.RETIRE_UNUSED,
                async ? ReencryptRequest.When.LATER : ReencryptRequest.When.NOW);
        try (ProgressReport progress = ProgressReport.start("reencrypt", 0, System.err)) {
            return Reply.ok(session.reencryption(resources == null ? List.of() : resources, progress).reencrypt(request));
        }
    }
}
