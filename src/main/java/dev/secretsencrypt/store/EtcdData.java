package dev.secretsencrypt.store;

import static dev.secretsencrypt.store.EtcdCalls.bytes;

import dev.secretsencrypt.failure.StateUnavailable;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import java.io.OutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** kube-apiserver's data in etcd as the checks before a pass read it, and etcd's own snapshot of all of it. */
final class EtcdData implements KubernetesData, DatastoreSnapshots {
    private final EtcdCalls etcd;

    EtcdData(EtcdCalls etcd) {
        this.etcd = etcd;
    }

    @Override
    public long count(String keyPrefix) {
        return etcd.await(etcd.kv.get(bytes(keyPrefix), GetOption.builder().isPrefix(true).withCountOnly(true).build()),
                "count the stored values").getCount();
    }

    @Override
    public long newestRevision(String keyPrefix) {
        // every key, keys only (a few dozen leases): kine sorts no range, so the newest is found here
        return etcd.awaitRetrying(() -> etcd.kv.get(bytes(keyPrefix), GetOption.builder().isPrefix(true)
                .withKeysOnly(true).build()), "read " + keyPrefix).getKvs().stream().mapToLong(KeyValue::getModRevision)
                .max().orElse(0);
    }

    @Override
    public List<byte[]> values(String keyPrefix, int limit) {
        return etcd.await(etcd.kv.get(bytes(keyPrefix), GetOption.builder().isPrefix(true).withLimit(limit).build()),
                "read " + keyPrefix).getKvs().stream().map(k -> k.getValue().getBytes()).toList();
    }

    @Override
    public Optional<String> unavailable() {
        if (etcd.kind() != DatastoreKind.KINE) {
            return Optional.empty();
        }
        return Optional.of("kine at " + etcd.endpoints + " has no snapshot API (its data lives in the SQL database "
                + "behind it): back that database up instead before keys are retired (SQLite: sqlite3 "
                + "/var/lib/rancher/k3s/server/db/state.db '.backup /root/state-before-retire.db'; PostgreSQL: "
                + "pg_dump; MySQL/MariaDB: mysqldump), then run again without --snapshot-dir");
    }

    @Override
    public long saveSnapshot(OutputStream out, Duration within) {
        CompletableFuture<Long> saving = etcd.client.getMaintenanceClient().snapshot(out);
        try {
            return saving.get(within.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            saving.cancel(true);
            throw new StateUnavailable("cannot save an etcd snapshot: etcd at " + etcd.endpoints + " did not send it "
                    + "within " + within.toMinutes() + " min; check etcd's health and its database size", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new StateUnavailable("cannot save an etcd snapshot from " + etcd.endpoints + ": " + cause.getMessage(),
                    cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StateUnavailable("interrupted while saving an etcd snapshot");
        }
    }
}
