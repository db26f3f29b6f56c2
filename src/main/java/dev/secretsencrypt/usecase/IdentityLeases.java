package dev.secretsencrypt.usecase;

import dev.secretsencrypt.apiserver.ApiserverIdentity;
import dev.secretsencrypt.apiserver.IdentityLease;
import dev.secretsencrypt.envelope.ProviderChain;
import dev.secretsencrypt.envelope.UnreadableValue;
import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.reencrypt.PassSettings;
import dev.secretsencrypt.reencrypt.StoredValues;
import dev.secretsencrypt.reencrypt.Targets;
import dev.secretsencrypt.rotation.NodeReport;
import dev.secretsencrypt.rotation.RunningApiservers;
import dev.secretsencrypt.rotation.RunningApiservers.Watched;
import dev.secretsencrypt.store.EtcdPrefix;
import dev.secretsencrypt.store.ServerRegistry;
import dev.secretsencrypt.store.Snapshot;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;

/**
 * The kube-apiservers that run, by the identity leases they renew under {@code <etcd-prefix>/leases/kube-system/}
 * (decrypted, where the config encrypts leases), set against the registered servers' reports: the input of
 * {@link RunningApiservers}. A lease no server claims is watched in the datastore until it is seen rewritten or left
 * alone for {@link RunningApiservers#WATCHED_FOR}: no clock decides whether its apiserver runs. What was seen is kept
 * for the life of this session (rotate-keys, the agent), so it waits once per lease.
 */
final class IdentityLeases {
    static final String LEASES_RESOURCE = "leases.coordination.k8s.io";
    private static final long WATCH_EVERY_MILLIS = 500;

    /** Whether a check may wait to watch the leases no server claims, or judges them by their renew time (status). */
    enum Wait { WATCH, NO_WAIT }

    private final StoredValues values;
    private final EtcdPrefix etcdPrefix;
    private final ServerRegistry registry;
    private final Clock clock;
    private final Map<String, Sighting> seen = new HashMap<>();

    IdentityLeases(StoredValues values, EtcdPrefix etcdPrefix, ServerRegistry registry, Clock clock) {
        this.values = values;
        this.etcdPrefix = etcdPrefix;
        this.registry = registry;
        this.clock = clock;
    }

    /** A lease's etcd revision when first seen (or last seen change), on this machine's monotonic clock. */
    private record Sighting(long revision, long sinceNanos, boolean renewed) {
    }

    /** Every kube-apiserver identity lease, and the keys of those that cannot be read. */
    record Found(List<RunningApiservers.Apiserver> leases, List<String> unreadable) {
    }

    synchronized Found read(Snapshot current) {
        ProviderChain chain = Targets.readerOf(current.rotation().config(), LEASES_RESOURCE,
                KeyRetirement.retiredReaders(current));
        String kubeSystem = etcdPrefix.under("leases/kube-system");
        List<RunningApiservers.Apiserver> leases = new ArrayList<>();
        List<String> unreadable = new ArrayList<>();
        values.each(kubeSystem, PassSettings.defaults(), v -> {
            String key = new String(v.etcdKey(), StandardCharsets.UTF_8);
            if (!key.substring(kubeSystem.length()).startsWith("apiserver-")) {
                return; // the controller-manager's and scheduler's leader leases live here too
            }
            IdentityLease.Reading reading;
            try {
                reading = IdentityLease.reading(chain.open(v.value(), v.etcdKey()).plaintext());
            } catch (UnreadableValue e) {
                reading = new IdentityLease.Reading.Unreadable();
            }
            if (reading instanceof IdentityLease.Reading.Found found) {
                IdentityLease l = found.lease();
                leases.add(new RunningApiservers.Apiserver(l.identity().leaseName(), l.host(), l.renewedAt(),
                        watched(key, v.modRevision())));
            } else if (reading instanceof IdentityLease.Reading.Unreadable) {
                unreadable.add(key);
            }
        });
        return new Found(leases, unreadable);
    }

    /** What watching the lease at {@code key} showed so far; its revision now is {@code revision}. */
    private Watched watched(String key, long revision) {
        long now = System.nanoTime();
        Sighting before = seen.get(key);
        Sighting s = before == null ? new Sighting(revision, now, false)
                : before.revision() != revision ? new Sighting(revision, now, true) : before;
        seen.put(key, s);
        if (s.renewed()) {
            return Watched.RENEWING;
        }
        return now - s.sinceNanos() >= RunningApiservers.WATCHED_FOR.toNanos() ? Watched.STILL : Watched.NOT_YET;
    }

    /** Every running apiserver set against the registered servers (those with a report) and what each claims. */
    RunningApiservers.Verdict check(Snapshot current, List<NodeReport> reports, Wait wait) {
        Map<String, ServerRegistry.ServerRecord> records = registry.records();
        List<RunningApiservers.Claim> claims = reports.stream().map(r -> new RunningApiservers.Claim(r.node(),
                Optional.ofNullable(records.get(r.node())).flatMap(ServerRegistry.ServerRecord::apiserver))).toList();
        List<String> claimed = claims.stream().flatMap(c -> c.leaseName().stream()).toList();
        Found found = watchUntilDecided(current, wait, a -> !claimed.contains(a.leaseName()));
        return RunningApiservers.check(found.leases(), found.unreadable(), claims, clock.instant());
    }

    /** The kube-apiserver whose metrics carry {@code idHash}, if its lease is there. */
    Optional<RunningApiservers.Apiserver> byIdHash(Snapshot current, String idHash) {
        return read(current).leases().stream()
                .filter(a -> new ApiserverIdentity(a.leaseName()).hashedAs(idHash)).findFirst();
    }

    /** The lease of {@code leaseName}, if its apiserver still runs (watched, as nodes forget must be sure). */
    Optional<RunningApiservers.Apiserver> running(Snapshot current, String leaseName) {
        Found found = watchUntilDecided(current, Wait.WATCH, a -> a.leaseName().equals(leaseName));
        return RunningApiservers.stillRunning(found.leases(), leaseName, clock.instant());
    }

    /** Reads again every half second until every lease {@code watching} picks is seen renewing or still. */
    private Found watchUntilDecided(Snapshot current, Wait wait, Predicate<RunningApiservers.Apiserver> watching) {
        Found found = read(current);
        long deadline = System.nanoTime() + RunningApiservers.WATCHED_FOR.toNanos() + WATCH_EVERY_MILLIS * 1_000_000;
        while (wait == Wait.WATCH && found.leases().stream().anyMatch(a -> watching.test(a)
                && a.watched() == Watched.NOT_YET) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(WATCH_EVERY_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CommandRefused("interrupted while watching kube-apiserver identity leases; nothing was changed");
            }
            found = read(current);
        }
        return found;
    }
}
