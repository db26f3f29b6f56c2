package dev.secretsencrypt.rotation;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Every kube-apiserver that runs must be one the checks wait for. Each renews an identity lease every 10 s; before a
 * key becomes the writer or is retired, every apiserver whose lease was renewed lately must be claimed by a registered
 * server's report, or it is unaccounted for: a server forgotten with {@code nodes forget} that came back, or one never
 * set up with this tool, may still write with a key the others are about to drop. No flag skips this.
 *
 * <p>Whether an apiserver runs is best seen by watching its lease rewritten in the datastore ({@link Watched}): no
 * clock takes part, so neither this machine's clock nor that apiserver's (seconds or hours off) can make a running one
 * look stopped or the reverse. Where a lease was not watched (status, which must not wait), its renew time decides:
 * within {@link #RUNNING_WITHIN} of the earlier of now and the newest renewal of all, so this machine's clock running
 * ahead cannot make every lease look old, and running behind only counts more apiservers as running.
 */
public final class RunningApiservers {
    /** Six missed renewals: an apiserver that renewed within this is taken to run. */
    public static final Duration RUNNING_WITHIN = Duration.ofMinutes(1);

    /** An identity lease as stored: whose it is, its host, when it was last renewed, and what watching it showed. */
    public record Apiserver(String leaseName, String host, Optional<Instant> renewedAt, Watched watched) {
        public Apiserver(String leaseName, String host, Optional<Instant> renewedAt) {
            this(leaseName, host, renewedAt, Watched.NOT_YET);
        }
    }

    /**
     * What watching a lease in the datastore showed, whatever the clocks say: rewritten (its apiserver runs), or left as
     * it was for longer than the renew period and then some ({@link #WATCHED_FOR}; its apiserver stopped).
     */
    public enum Watched { RENEWING, STILL, NOT_YET }

    /** kube-apiserver renews every 10 s (with jitter): a lease left as it was for this long is no running one's. */
    public static final Duration WATCHED_FOR = Duration.ofSeconds(15);

    /** A registered server, and the identity lease of the kube-apiserver its report speaks for (absent: an old report). */
    public record Claim(String server, Optional<String> leaseName) {
    }

    /**
     * What the leases say: apiservers no report claims, servers whose report names no apiserver, unreadable leases,
     * and identities two servers claim (their apiservers run under one host name, so no answer tells them apart).
     */
    public record Verdict(List<Apiserver> unaccounted, List<String> unnamedServers, List<String> unreadableLeases,
                          Map<String, List<String>> sharedIdentities, Instant now) {
        public Verdict {
            unaccounted = List.copyOf(unaccounted);
            unnamedServers = List.copyOf(unnamedServers);
            unreadableLeases = List.copyOf(unreadableLeases);
            sharedIdentities = Map.copyOf(sharedIdentities);
        }

        public boolean everyOneAccounted() {
            return unaccounted.isEmpty() && unreadableLeases.isEmpty() && sharedIdentities.isEmpty();
        }

        /** What is wrong and what to do, in one sentence per problem; empty when every running apiserver is claimed. */
        public Optional<String> problem() {
            List<String> parts = new ArrayList<>();
            for (Apiserver a : unaccounted) {
                parts.add("kube-apiserver on " + a.host() + " (identity lease " + a.leaseName()
                        + a.renewedAt().map(t -> ", renewed " + ago(t, now)).orElse("") + ") runs, but no "
                        + "registered server reports for it");
            }
            sharedIdentities.forEach((lease, servers) -> parts.add(String.join(" and ", servers) + " both report for the "
                    + "kube-apiserver of identity " + lease + ": two apiservers under one host name cannot be told apart "
                    + "(cloned machines?); give each server its own host name, or set --apiserver-hostname to the one its "
                    + "kube-apiserver really runs under, then run sync there"));
            for (String key : unreadableLeases) {
                parts.add("the identity lease " + key + " cannot be read (damaged, or encrypted with a key the cluster "
                        + "state lacks), so the kube-apiserver behind it cannot be accounted for");
            }
            if (parts.isEmpty()) {
                return Optional.empty();
            }
            String todo = "run sync on that server (or start its agent) so its report names its kube-apiserver"
                    + (unnamedServers.isEmpty() ? "" : " (" + String.join(", ", unnamedServers) + " reported before "
                    + "reports named it: run sync there)")
                    + "; if its apiserver runs under another host name than the tool assumes, give it "
                    + "--apiserver-hostname; a server removed with nodes forget that is back registers again with "
                    + "sync; a server gone for good must have its kube-apiserver stopped";
            return Optional.of(String.join("; ", parts) + ". " + Character.toUpperCase(todo.charAt(0)) + todo.substring(1));
        }
    }

    private RunningApiservers() {
    }

    /** The leases seen renewing, and those not watched but renewed lately by their time (see the class comment). */
    public static List<Apiserver> running(List<Apiserver> leases, Instant now) {
        Instant reference = reference(leases, now);
        return leases.stream().filter(a -> switch (a.watched()) {
            case RENEWING -> true;
            case STILL -> false;
            case NOT_YET -> a.renewedAt().map(t -> t.isAfter(reference.minus(RUNNING_WITHIN))).orElse(true);
        }).toList();
    }

    /** Checks every running apiserver against the registered servers' claims. */
    public static Verdict check(List<Apiserver> leases, List<String> unreadableLeases, List<Claim> claims, Instant now) {
        Set<String> claimed = claims.stream().flatMap(c -> c.leaseName().stream()).collect(Collectors.toSet());
        List<Apiserver> unaccounted = running(leases, now).stream().filter(a -> !claimed.contains(a.leaseName()))
                .sorted(Comparator.comparing(Apiserver::host)).toList();
        List<String> unnamed = claims.stream().filter(c -> c.leaseName().isEmpty()).map(Claim::server).sorted().toList();
        Map<String, List<String>> byLease = new TreeMap<>();
        claims.forEach(c -> c.leaseName().ifPresent(l -> byLease.computeIfAbsent(l, x -> new ArrayList<>()).add(c.server())));
        Set<String> running = running(leases, now).stream().map(Apiserver::leaseName).collect(Collectors.toSet());
        // only a running apiserver's identity: without one there is no answer to take for another's
        byLease.entrySet().removeIf(e -> e.getValue().size() < 2 || !running.contains(e.getKey()));
        return new Verdict(unaccounted, unnamed, unreadableLeases, byLease, now);
    }

    /** Whether the apiserver of {@code leaseName} still runs, by its lease: what nodes forget asks. */
    public static Optional<Apiserver> stillRunning(List<Apiserver> leases, String leaseName, Instant now) {
        return running(leases, now).stream().filter(a -> a.leaseName().equals(leaseName)).findFirst();
    }

    private static Instant reference(List<Apiserver> leases, Instant now) {
        return leases.stream().flatMap(a -> a.renewedAt().stream()).max(Instant::compareTo)
                .filter(newest -> newest.isBefore(now)).orElse(now);
    }

    static String ago(Instant then, Instant reference) {
        long s = Math.max(0, Duration.between(then, reference).toSeconds());
        return s < 120 ? s + " s ago" : s / 60 + " min ago";
    }
}
