package dev.secretsencrypt.usecase;

import dev.secretsencrypt.rotation.ServersOnConfig;
import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.rotation.ReportMatch;
import dev.secretsencrypt.rotation.Stage;
import dev.secretsencrypt.store.ClusterState;
import dev.secretsencrypt.store.Snapshot;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * {@code rotate-keys}: prepare → every server loads it → rotate → every server loads it → reencrypt (which retires the
 * old keys) → every server loads the final config. Each step is the existing use case, which stores its stage before
 * the next begins; this only chains them and waits. So a run stopped anywhere (timeout, Ctrl-C, a crash) is continued
 * by running it again: it reads the stage and goes on from there.
 */
public final class RotateKeys {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(5); // kube-apiserver polls its file every minute
    public static final Duration DEFAULT_POLL = Duration.ofSeconds(2);

    /** How long each wait may take, how often it reads the reports, and where snapshots go (if anywhere). */
    public record Settings(Duration timeout, Duration pollEvery, Optional<SnapshotPolicy> snapshots) {
    }

    /** Waits between two reads of the reports; tests pass one that advances their clock. */
    @FunctionalInterface
    public interface Sleeper {
        void sleep(Duration d) throws InterruptedException;
    }

    /** What each wait is for, in the operator's words; the report match is the one the next step checks. */
    private enum Wait {
        PREPARED("the prepared config (stage prepare)", ReportMatch.CONFIG_AND_STAGE, "step 1 (prepare)"),
        ROTATED("the rotated config", ReportMatch.CONFIG, "step 2 (rotate)"),
        FINAL("the final config", ReportMatch.CONFIG, "step 3 (reencrypt)");

        final String what;
        final ReportMatch match;
        final String after;

        Wait(String what, ReportMatch match, String after) {
            this.what = what;
            this.match = match;
            this.after = after;
        }
    }

    private final StageSteps steps;
    private final ServerGate gate;
    private final ClusterState state;
    private final Reencryption reencryption;
    private final Optional<RetirementSnapshots> snapshots;
    private final Settings settings;
    private final Clock clock;
    private final Sleeper sleeper;
    private final Consumer<String> say;

    /** Built by {@link Session}; {@code say} hears each step and each server that loaded the config, as they happen. */
    RotateKeys(StageSteps steps, ServerGate gate, ClusterState state, Reencryption reencryption,
               Optional<RetirementSnapshots> snapshots, Settings settings, Clock clock, Sleeper sleeper,
               Consumer<String> say) {
        this.steps = steps;
        this.gate = gate;
        this.state = state;
        this.reencryption = reencryption;
        this.snapshots = snapshots;
        this.settings = settings;
        this.clock = clock;
        this.sleeper = sleeper;
        this.say = say;
    }

    /** Where a stop (Ctrl-C, SIGTERM) would leave the rotation, for the line said as the process goes. */
    private volatile String where = "before its first step";

    /** Runs (or continues) one rotation to its end; returns the closing line. A refusal leaves a state to resume from. */
    public String run() throws Exception {
        // Ctrl-C: the stage reached is stored after every step, so say where it stopped and what continues it
        Thread onStop = new Thread(() -> say.accept("rotate-keys stopped " + where + ": every step it finished is "
                + "stored; run rotate-keys again (on any server) to continue from there"), "rotate-keys-stopped");
        Runtime.getRuntime().addShutdownHook(onStop);
        try {
            return rotate();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(onStop);
            } catch (IllegalStateException shuttingDown) {
                // the hook is running: it says where the rotation stopped
            }
        }
    }

    private String rotate() throws Exception {
        // what would refuse the re-encryption is refused before any change, not after the rotate
        snapshots.ifPresent(RetirementSnapshots::requireUsableDir);
        reencryption.requireKubernetesDataPresent();
        boolean began = false;
        while (true) {
            Snapshot s = current();
            Stage stage = s.rotation().stage();
            where = "at stage " + stage.text();
            if (!began && stage != Stage.START && stage != Stage.REENCRYPT_FINISHED) {
                say.accept("continuing the rotation from stage " + stage.text());
            }
            switch (stage) {
                case START -> {
                    if (began) {
                        throw changedUnderUs(stage);
                    }
                    step(1, "prepare", steps.prepareDone());
                }
                case REENCRYPT_FINISHED -> {
                    // a previous run stopped in its last wait when servers still lag; otherwise a new rotation begins
                    if (began || !gate.serversOn(s, Wait.FINAL.match).everyServer()) {
                        if (!began) {
                            say.accept("continuing the rotation from stage " + stage.text() + ": its final config is "
                                    + "not loaded everywhere yet");
                        }
                        say.accept("step 4/4 wait: every server loads the final config");
                        awaitEveryServer(Wait.FINAL);
                        return "rotate-keys done: every server loaded the final config (" + shortHash(current())
                                + "); run rotate-keys again for the next rotation";
                    }
                    step(1, "prepare", steps.prepareDone());
                }
                case PREPARE -> {
                    awaitEveryServer(Wait.PREPARED);
                    step(2, "rotate", steps.rotateDone());
                }
                case ROTATE -> {
                    awaitEveryServer(Wait.ROTATED);
                    reencrypt();
                }
                case REENCRYPT_ACTIVE -> {
                    Optional<String> holder = reencryption.leaseHolder();
                    if (holder.isPresent()) {
                        // a pass killed a moment ago still holds its lease: run again at once, rotate-keys waits it out
                        awaitReencryptionLease(holder.get(), s);
                        began = true;
                        continue;
                    }
                    reencrypt();
                }
                case REENCRYPT_REQUEST -> reencrypt();
                default -> throw new IllegalStateException("a stage rotate-keys does not know: " + stage);
            }
            began = true;
            if (current().revision() == s.revision()) {
                throw new IllegalStateException("rotate-keys made no progress from stage " + stage.text());
            }
        }
    }

    private void reencrypt() throws Exception {
        where = "during its re-encryption pass (stage reencrypt_active)";
        snapshots.ifPresent(store -> {
            RetirementSnapshots.Saved saved = store.save(clock.instant());
            say.accept("saved etcd snapshot " + saved.file() + " (" + saved.bytes() + " bytes) before retiring old keys"
                    + (saved.removed().isEmpty() ? "" : "; removed the oldest: " + String.join(", ",
                    saved.removed().stream().map(p -> p.getFileName().toString()).toList())));
        });
        step(3, "reencrypt", reencryption.reencrypt(ReencryptRequest.now()));
    }

    private void step(int number, String name, String summary) {
        say.accept("step " + number + "/4 " + name + ": " + summary);
    }

    private Snapshot current() {
        return CurrentState.of(state);
    }

    /**
     * Polls the servers' reports until every registered one loaded the current config; says which servers must still
     * restart (today their sync reports are what counts) and names each as it comes. Bounded by the timeout.
     */
    private void awaitEveryServer(Wait wait) throws InterruptedException {
        Snapshot at = current();
        Instant deadline = clock.instant().plus(settings.timeout());
        ServersOnConfig on = gate.serversOn(at, wait.match);
        if (on.everyServer()) {
            say.accept("every server (" + on.registered() + ") already loaded " + wait.what);
            return;
        }
        where = "at stage " + at.rotation().stage().text() + ", waiting for every server to load " + wait.what;
        say.accept("waiting up to " + human(settings.timeout()) + " for every server to load " + wait.what + ": "
                + (on.noneRegistered() ? "no server has reported yet; run sync on every server"
                : on.whatToDo() + " (" + on.loaded().size() + "/" + on.registered() + " loaded)"));
        List<String> seen = on.loaded();
        // a change in what blocks the wait (an agent's problem, an apiserver unaccounted for) is said once, as it comes
        String blocking = on.whatToDo();
        while (true) {
            if (!clock.instant().isBefore(deadline)) {
                throw timedOut(wait, at, on);
            }
            sleeper.sleep(settings.pollEvery());
            Snapshot now = current();
            if (now.revision() != at.revision()) {
                throw changedUnderUs(now.rotation().stage());
            }
            on = gate.serversOn(now, wait.match);
            List<String> before = seen;
            List<String> fresh = on.loaded().stream().filter(server -> !before.contains(server)).toList();
            for (int i = 0; i < fresh.size(); i++) {
                boolean lastOfPoll = i == fresh.size() - 1;
                say.accept("  " + fresh.get(i) + " loaded " + wait.what + " (" + (on.loaded().size() - fresh.size() + i + 1)
                        + "/" + on.registered() + ")" + (!lastOfPoll || on.everyServer() ? ""
                        : "; still waiting for " + (on.behind().isEmpty() ? "every running kube-apiserver to be "
                        + "accounted for" : String.join(", ", on.behind()))));
            }
            seen = on.loaded();
            if (on.everyServer()) {
                say.accept("every server (" + on.registered() + ") loaded " + wait.what);
                return;
            }
            if (fresh.isEmpty() && !on.whatToDo().equals(blocking) && !on.noneRegistered()) {
                say.accept("  still waiting: " + on.whatToDo());
            }
            blocking = on.whatToDo();
        }
    }

    /**
     * Waits, as long as a server wait may last, until the re-encryption lease is released or lapses (a pass killed with
     * SIGKILL keeps it for up to {@link Reencryption#OWNER_LEASE}) or that run changes the stage (it finished or failed).
     */
    private void awaitReencryptionLease(String holder, Snapshot at) throws InterruptedException {
        Instant deadline = clock.instant().plus(settings.timeout());
        say.accept("waiting up to " + human(settings.timeout()) + " for the re-encryption on " + holder + " to finish "
                + "or its lease to lapse (a run that was killed holds it for up to " + Reencryption.OWNER_LEASE.toSeconds()
                + " s); then its pass resumes from its checkpoint");
        while (reencryption.leaseHolder().isPresent() && current().revision() == at.revision()) {
            if (!clock.instant().isBefore(deadline)) {
                throw new CommandRefused("rotate-keys stopped: in " + human(settings.timeout()) + " the re-encryption "
                        + "on " + holder + " neither finished nor released its lease. The state stays at stage "
                        + at.rotation().stage().text() + ": run status (it shows that run's progress), then rotate-keys "
                        + "again to continue");
            }
            sleeper.sleep(settings.pollEvery());
        }
    }

    private CommandRefused timedOut(Wait wait, Snapshot at, ServersOnConfig on) {
        String who = on.noneRegistered() ? "no server reported its hash (run sync on every server)"
                : on.behind().isEmpty() ? on.whatToDo()
                : String.join(", ", on.behind()) + " did not load it: " + on.whatToDo();
        return new CommandRefused("rotate-keys stopped after " + wait.after + ": in " + human(settings.timeout())
                + " not every server loaded " + wait.what + ": " + who + ". The state stays at stage "
                + at.rotation().stage().text() + ": run rotate-keys again to continue from there");
    }

    private static CommandRefused changedUnderUs(Stage now) {
        return new CommandRefused("the rotation state changed while rotate-keys ran (another secrets-encrypt command "
                + "ran; stage is now " + now.text() + "): run status, then rotate-keys again to continue");
    }

    /** The first 12 hex digits: enough to compare with status, never key material (a hash of the whole file). */
    private static String shortHash(Snapshot s) {
        return s.rotation().stage().text() + "-" + s.configHash().shortForm();
    }

    private static String human(Duration d) {
        long s = d.toSeconds();
        if (s == 0) {
            return d.toMillis() + "ms";
        }
        return (s >= 60 ? s / 60 + "m" : "") + (s % 60 != 0 || s < 60 ? s % 60 + "s" : "");
    }
}
