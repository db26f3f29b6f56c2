package dev.secretsencrypt.rotation;

import java.util.Optional;

/**
 * When an agent writes its server's report again, pure: whenever the stored one is not exactly what this agent knows
 * its own kube-apiserver serves with (a sync by hand, a forget, a lapsed lease, a new stage or config replaced it), or
 * it has not reported since it started (its record must show this agent's source and apiserver).
 */
public final class AgentReport {
    private AgentReport() {
    }

    /** A server's stored report as the agent reads it: the report, whether it came from an apiserver, and which. */
    public record Stored(NodeReport report, boolean fromApiserver, Optional<String> apiserver) {
    }

    public static boolean mustWrite(Optional<Stored> stored, NodeReport wanted, String apiserverLease,
                                    boolean reportedSinceStart) {
        boolean same = stored.filter(s -> s.report().equals(wanted) && s.fromApiserver()
                && s.apiserver().filter(apiserverLease::equals).isPresent()).isPresent();
        return !(same && reportedSinceStart);
    }
}
