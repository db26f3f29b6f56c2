package dev.secretsencrypt.usecase;

import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.config.KmsProvider;
import dev.secretsencrypt.config.Provider;
import dev.secretsencrypt.rotation.KeyList;
import dev.secretsencrypt.rotation.NodeReport;
import dev.secretsencrypt.rotation.Rotation;
import dev.secretsencrypt.rotation.RotationState;
import dev.secretsencrypt.rotation.ServerHashes;
import dev.secretsencrypt.rotation.Stage;
import dev.secretsencrypt.store.ClusterState;
import dev.secretsencrypt.store.PassOwnership;
import dev.secretsencrypt.store.RunRecords;
import dev.secretsencrypt.store.ServerReports;
import dev.secretsencrypt.store.Snapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** {@code status}: the stage, the keys, every server's report and whether they agree, a re-encryption under way. */
public final class StatusQuery {
    private final ClusterState state;
    private final Optional<ClusterState> singleServerRecord;
    private final ServerReports reports;
    private final Optional<RunRecords> runs;
    private final Optional<PassOwnership> owner;
    private final NodeFile file;
    private final ServerGate gate;
    private final Optional<ClusterLink> cluster;

    StatusQuery(ClusterState state, Optional<ClusterState> singleServerRecord, ServerReports reports,
                Optional<RunRecords> runs, Optional<PassOwnership> owner, NodeFile file, ServerGate gate,
                Optional<ClusterLink> cluster) {
        this.state = state;
        this.singleServerRecord = singleServerRecord;
        this.reports = reports;
        this.runs = runs;
        this.owner = owner;
        this.file = file;
        this.gate = gate;
        this.cluster = cluster;
    }

    public StatusView status() {
        boolean clusterMode = singleServerRecord.isPresent();
        Optional<Snapshot> stored = state.read();
        Optional<Snapshot> shown = stored.or(() -> file.adopt(singleServerRecord));
        if (shown.isEmpty()) {
            return new StatusView.NotConfigured(file.path());
        }
        RotationState s = shown.get().rotation();
        List<NodeReport> now = reports.reports();
        ServerHashes hashes = stored.isPresent() ? ServerHashes.of(s.stage(), shown.get().configHash(), now)
                : ServerHashes.ofFileOnly(now);
        KeyList keys = Rotation.keysOf(s.config());
        Optional<RunRecord> run = shownRun(shown.get());
        List<StatusView.KeyRow> retired = shown.get().retiredKeys().stream()
                .map(k -> new StatusView.KeyRow(false, k.type().displayName(), k.key().name())).toList();
        boolean runGone = run.filter(r -> r.status() == RunRecord.Status.RUNNING && s.stage() == Stage.REENCRYPT_ACTIVE)
                .isPresent() && owner.flatMap(PassOwnership::owner).isEmpty();
        Optional<String> localFile = stored.filter(x -> cluster.isPresent()).flatMap(file::differsFrom);
        List<String> cautions = stored.map(x -> gate.cautions(x, now)).orElse(List.of());
        return new StatusView.Configured(keys.isEnabled(), s.stage(), hashes, keyRows(keys), now, clusterMode, run,
                runGone, retired, state.describe(), file.path(), localFile,
                cluster.map(c -> c.registry().records()).orElse(Map.of()), cautions);
    }

    /** A run under way; a failed one is shown until the next run replaces it: it says what failed and what to do. */
    private Optional<RunRecord> shownRun(Snapshot shown) {
        Stage stage = shown.rotation().stage();
        boolean underWay = stage == Stage.REENCRYPT_ACTIVE || stage == Stage.REENCRYPT_REQUEST;
        return runs.flatMap(r -> RunRecord.fromJson(r.runRecord())).filter(r -> underWay
                || r.failedOn(shown.configHash()));
    }

    private static List<StatusView.KeyRow> keyRows(KeyList keys) {
        List<StatusView.KeyRow> rows = new ArrayList<>();
        boolean first = true;
        for (Provider p : keys.providers()) {
            if (p instanceof KeyedProvider k) {
                for (int i = 0; i < k.keys().size(); i++) {
                    rows.add(new StatusView.KeyRow(first && i == 0, k.type().displayName(), k.keys().get(i).name()));
                }
            } else if (p instanceof KmsProvider kms) {
                rows.add(new StatusView.KeyRow(first, "KMS" + kms.effectiveApiVersion(), kms.name()));
            }
            first = false;
        }
        return rows;
    }
}
