package dev.secretsencrypt.rotation;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The agents' rotation schedule ({@code --rotate-every}), pure: due once the last rotation (the newest retired key;
 * else the agent's start) is that old, and only when every server's report comes from a running agent reading its
 * kube-apiserver: a file report cannot tell that kube-apiserver reloaded, and nobody is there to restart it.
 */
public record Schedule(Optional<Duration> every) {

    /** What the schedule says now. */
    public sealed interface Check {
        record Off() implements Check {
        }

        record NotDue(Instant at) implements Check {
        }

        /** Due, but held back: {@code why} says what must change first. */
        record Waits(String why) implements Check {
        }

        record Due() implements Check {
        }
    }

    /** When the next rotation is due; empty when there is no schedule. */
    public Optional<Instant> dueAt(Optional<Instant> lastRotation, Instant agentStarted) {
        return every.map(e -> lastRotation.orElse(agentStarted).plus(e));
    }

    /**
     * {@code servers}: every registered server; {@code notVouched}: those whose report is stale or not from a running
     * agent reading its apiserver.
     */
    public Check check(Optional<Instant> lastRotation, Instant agentStarted, Instant now, List<String> servers,
                       List<String> notVouched) {
        Optional<Instant> due = dueAt(lastRotation, agentStarted);
        if (due.isEmpty()) {
            return new Check.Off();
        }
        if (now.isBefore(due.get())) {
            return new Check.NotDue(due.get());
        }
        if (servers.isEmpty() || !notVouched.isEmpty()) {
            return new Check.Waits("the scheduled rotation is due but waits: " + (servers.isEmpty()
                    ? "no server reported yet" : String.join(", ", notVouched) + " report(s) not from a running agent "
                    + "with --apiserver-url") + "; a scheduled rotation needs every server's agent to read its "
                    + "kube-apiserver's metrics");
        }
        return new Check.Due();
    }
}
