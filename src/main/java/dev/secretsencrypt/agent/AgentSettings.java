package dev.secretsencrypt.agent;

import dev.secretsencrypt.apiserver.ApiserverConfigProbe;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;

/**
 * How this server's agent runs: where it asks what kube-apiserver loaded (absent: it reports its file, as sync does),
 * the rotation schedule (absent: none), how long each wait of a scheduled rotation may take, and where it serves its
 * metrics (absent: nowhere).
 */
public record AgentSettings(Optional<ApiserverConfigProbe> probe, Optional<Duration> rotateEvery, Duration waitTimeout,
                            Optional<InetSocketAddress> metricsAddress, Timing timing) {

    /** The agent's clocks; tests shorten them. */
    public record Timing(Duration reportLease, Duration probeWhileLoading, Duration probeWhenLoaded,
                         Duration leaderRecheck, Duration retryAfterFailure, Duration certificatesEvery) {
        /** The report lease outlives a few missed renewals; probing every 2 s meets kube-apiserver's 1-min reload. */
        public static Timing defaults() {
            return new Timing(Duration.ofSeconds(20), Duration.ofSeconds(2), Duration.ofSeconds(15),
                    Duration.ofSeconds(10), Duration.ofSeconds(60), Duration.ofMinutes(10));
        }

        /**
         * The clocks with the report lease, probe interval and leader recheck given (tests shorten them); the others
         * follow from those: once loaded it probes five times less often, a failed step waits six rechecks.
         */
        public static Timing of(Duration reportLease, Duration probeEvery, Duration leaderRecheck) {
            Timing d = defaults();
            if (reportLease.toSeconds() < 2 || probeEvery.isZero() || probeEvery.isNegative() || leaderRecheck.isZero()
                    || leaderRecheck.isNegative()) {
                throw new IllegalArgumentException("the agent's clocks must be above zero, the lease at least 2 s");
            }
            return new Timing(reportLease, probeEvery, probeEvery.equals(d.probeWhileLoading()) ? d.probeWhenLoaded()
                    : probeEvery.multipliedBy(5), leaderRecheck, leaderRecheck.multipliedBy(6), d.certificatesEvery());
        }
    }

    /** A period as the operator gave it: {@code 7d}, {@code 12h}, {@code 30m}, {@code 45s}. */
    static String text(Duration d) {
        long s = d.toSeconds();
        return s % 86_400 == 0 ? s / 86_400 + "d" : s % 3600 == 0 ? s / 3600 + "h" : s % 60 == 0 ? s / 60 + "m" : s + "s";
    }
}
