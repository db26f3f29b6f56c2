package dev.secretsencrypt.usecase;

import dev.secretsencrypt.apiserver.IdentityLease;
import dev.secretsencrypt.envelope.ProviderChain;
import dev.secretsencrypt.envelope.UnreadableValue;
import dev.secretsencrypt.reencrypt.PassSettings;
import dev.secretsencrypt.reencrypt.ReadOnlyKey;
import dev.secretsencrypt.reencrypt.StoredValues;
import dev.secretsencrypt.reencrypt.Targets;
import dev.secretsencrypt.rotation.NodeReport;
import dev.secretsencrypt.rotation.RunningApiservers;
import dev.secretsencrypt.store.EtcdPrefix;
import dev.secretsencrypt.store.ServerRegistry;
import dev.secretsencrypt.store.Snapshot;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The kube-apiservers that run, by the identity leases they renew under {@code <etcd-prefix>/leases/kube-system/}
 * (decrypted, where the config encrypts leases), set against the registered servers' reports: the input of
 * {@link RunningApiservers}, the check that no apiserver writes unaccounted for.
 */
final class IdentityLeases {
    static final String LEASES_RESOURCE = "leases.coordination.k8s.io";

    private final StoredValues values;
    private final EtcdPrefix etcdPrefix;
    private final ServerRegistry registry;
    private final Clock clock;

    IdentityLeases(StoredValues values, EtcdPrefix etcdPrefix, ServerRegistry registry, Clock clock) {
        this.values = values;
        this.etcdPrefix = etcdPrefix;
        this.registry = registry;
        this.clock = clock;
    }

    /** Every kube-apiserver identity lease, and the keys of those that cannot be read. */
    record Found(List<RunningApiservers.Apiserver> leases, List<String> unreadable) {
    }

    Found read(Snapshot current) {
        List<ReadOnlyKey> retired = current.retiredKeys().stream().map(k -> new ReadOnlyKey(k.type(), k.key())).toList();
        ProviderChain chain = Targets.readerOf(current.rotation().config(), LEASES_RESOURCE, retired);
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
                leases.add(new RunningApiservers.Apiserver(l.identity().leaseName(), l.host(), l.renewedAt()));
            } else if (reading instanceof IdentityLease.Reading.Unreadable) {
                unreadable.add(key);
            }
        });
        return new Found(leases, unreadable);
    }

    /** Every running apiserver set against the registered servers (those with a report) and what each claims. */
    RunningApiservers.Verdict check(Snapshot current, List<NodeReport> reports) {
        Found found = read(current);
        Map<String, ServerRegistry.ServerRecord> records = registry.records();
        List<RunningApiservers.Claim> claims = reports.stream().map(r -> new RunningApiservers.Claim(r.node(),
                Optional.ofNullable(records.get(r.node())).flatMap(ServerRegistry.ServerRecord::apiserver))).toList();
        return RunningApiservers.check(found.leases(), found.unreadable(), claims, clock.instant());
    }

    /** The host of the kube-apiserver whose metrics carry {@code idHash}, if its lease is there. */
    Optional<RunningApiservers.Apiserver> byIdHash(Snapshot current, String idHash) {
        return read(current).leases().stream()
                .filter(a -> new dev.secretsencrypt.apiserver.ApiserverIdentity(a.leaseName()).hashedAs(idHash))
                .findFirst();
    }

    /** The lease of {@code leaseName}, if it is renewed lately: its apiserver still runs. */
    Optional<RunningApiservers.Apiserver> running(Snapshot current, String leaseName) {
        return RunningApiservers.stillRunning(read(current).leases(), leaseName, clock.instant());
    }
}
