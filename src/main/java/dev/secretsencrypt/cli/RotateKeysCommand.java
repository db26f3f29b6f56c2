package dev.secretsencrypt.cli;

import dev.secretsencrypt.reencrypt.PassListener;
import dev.secretsencrypt.usecase.RotateKeys;
import dev.secretsencrypt.usecase.Session;
import dev.secretsencrypt.usecase.SnapshotPolicy;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

@Command(name = "rotate-keys", mixinStandardHelpOptions = true,
        description = {"Run a whole rotation: prepare, rotate, reencrypt, waiting for every server in between.", "",
                "From stage start or reencrypt_finished. Each wait lasts until every registered server reports the new "
                + "config (today: restart its kube-apiserver and run sync there), at most --timeout. Each step is "
                + "stored before the next, so after a timeout or any interruption the same command continues where "
                + "it stopped."})
final class RotateKeysCommand extends StateCommand {
    @Option(names = "--timeout", converter = WarnPeriod.class, paramLabel = "DURATION", defaultValue = "5m",
            description = "How long each wait for the servers may take, e.g. 5m or 90s (default: ${DEFAULT-VALUE}: "
                    + "longer than kube-apiserver's one-minute reload poll).")
    Duration timeout;

    @Option(names = "--snapshot-dir", paramLabel = "DIR",
            description = "Save an etcd snapshot here before old keys are retired (created 0700; files 0600).")
    Path snapshotDir;

    @Option(names = "--snapshot-keep", paramLabel = "N", defaultValue = "3",
            description = "How many snapshots to keep in --snapshot-dir, the newest (default: ${DEFAULT-VALUE}).")
    int snapshotKeep;

    // fast polling for tests; two seconds is plenty against kube-apiserver's one-minute reload poll
    @Option(names = "--poll-interval-ms", hidden = true, defaultValue = "2000")
    long pollMillis;

    @Override
    Reply run(Session session) throws Exception {
        if (timeout.isZero() || snapshotKeep < 1 || pollMillis < 1) {
            throw new ParameterException(spec.commandLine(), "--timeout, --snapshot-keep and --poll-interval-ms must "
                    + "be above zero");
        }
        PrintWriter out = spec.commandLine().getOut();
        RotateKeys.Settings settings = new RotateKeys.Settings(timeout, Duration.ofMillis(pollMillis),
                Optional.ofNullable(snapshotDir).map(dir -> new SnapshotPolicy(dir, snapshotKeep)));
        // the progress report starts with the pass: a run that stops at a wait prints no "reencrypt: 0 values"
        AtomicReference<ProgressReport> progress = new AtomicReference<>();
        PassListener onPass = checkpoint -> {
            if (progress.get() == null) {
                progress.set(ProgressReport.start("reencrypt", 0, System.err));
            }
            progress.get().progress(checkpoint);
        };
        try {
            return Reply.ok(session.rotateKeys(settings, onPass, line -> {
                ProgressReport finished = progress.getAndSet(null); // the pass is over once a step line follows it
                if (finished != null) {
                    finished.close();
                }
                out.println(line);
                out.flush();
            }).run());
        } finally {
            if (progress.get() != null) {
                progress.get().close();
            }
        }
    }
}
