package dev.secretsencrypt.usecase;

import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.reencrypt.PassListener;
import dev.secretsencrypt.reencrypt.StoredValues;
import dev.secretsencrypt.rotation.Rotation;
import dev.secretsencrypt.store.ClusterState;
import dev.secretsencrypt.store.DataDir;
import dev.secretsencrypt.store.EtcdConnection;
import dev.secretsencrypt.store.EtcdDatastore;
import dev.secretsencrypt.store.EtcdPrefix;
import dev.secretsencrypt.store.Leadership;
import dev.secretsencrypt.store.LocalState;
import dev.secretsencrypt.store.Membership;
import dev.secretsencrypt.store.PassOwnership;
import dev.secretsencrypt.store.ServerRegistry;
import dev.secretsencrypt.store.ServerReports;
import dev.secretsencrypt.store.Snapshot;
import dev.secretsencrypt.store.StateWatch;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The composition root: one command's (or the agent's) session on this server. It checks the data dir, opens the
 * store the settings name, and builds the use cases on it with the clock and randomness given. Nothing else
 * constructs a store or looks at which one it is.
 */
public final class Session implements AutoCloseable {
    private final NodeSettings settings;
    private final ClusterState state;
    private final ServerReports reports;
    private final Optional<EtcdDatastore> etcd;
    private final NodeFile file;
    private final ServerGate gate;
    private final StageSteps steps;
    private final Reporting reporting;
    private final StatusQuery status;
    private final Clock clock;
    private final Consumer<String> warnings;

    private Session(NodeSettings settings, LocalState local, Optional<EtcdDatastore> etcd, Clock clock,
                    SecureRandom random, Consumer<String> warnings) {
        this.settings = settings;
        this.etcd = etcd;
        this.clock = clock;
        this.warnings = warnings;
        this.state = etcd.<ClusterState>map(EtcdDatastore::state).orElse(local);
        this.reports = etcd.<ServerReports>map(EtcdDatastore::reports).orElse(local);
        Optional<ClusterLink> cluster = etcd.map(e -> new ClusterLink(e.registry(),
                String.join(",", settings.etcd().orElseThrow().endpoints()),
                settings.etcd().orElseThrow().statePrefix().toString(),
                new IdentityLeases(new StoredValues(e.kv(), e::valueWrites), etcdPrefix(), e.registry(), clock), e.findings(),
                e.kubernetesData(), etcdPrefix()));
        ThisServer server = new ThisServer(settings.nodeName(), settings.apiserver(), new Membership(settings.dataDir()),
                cluster, clock);
        Optional<ClusterState> singleServerRecord = etcd.map(e -> local);
        this.file = new NodeFile(settings.configFile(), settings.nodeName(),
                etcd.map(EtcdDatastore::findings), clock);
        this.gate = new ServerGate(state, reports, cluster, clock);
        this.steps = new StageSteps(state, singleServerRecord, file, server, gate, new Rotation(clock, random));
        this.reporting = new Reporting(state, reports, file, server);
        this.status = new StatusQuery(state, singleServerRecord, reports, etcd.map(EtcdDatastore::runRecords),
                etcd.map(EtcdDatastore::owner), file, gate, cluster);
    }

    /** {@code warnings} hears what the operator should know but that does not stop the command. */
    public static Session open(NodeSettings settings, Clock clock, SecureRandom random, Consumer<String> warnings) {
        DataDir.check(settings.dataDir(), settings.configFile()).forEach(warnings);
        LocalState local = new LocalState(settings.dataDir(), settings.nodeName());
        if (settings.etcd().isEmpty()) {
            new Membership(settings.dataDir()).requireNoCluster(); // single-server mode is never chosen by omission
            return new Session(settings, local, Optional.empty(), clock, random, warnings);
        }
        // before connecting: a prefix that is not this data dir's cluster must neither show a state nor get a write
        new Membership(settings.dataDir()).requireSameStatePrefix(settings.etcd().get().statePrefix().toString());
        return new Session(settings, local, Optional.of(EtcdConnection.open(settings.etcd().get(), settings.nodeName(),
                warnings)), clock, random, warnings);
    }

    /** enable, disable, prepare, rotate. */
    public StageSteps steps() {
        return steps;
    }

    /** sync, and the agent's file and report. */
    public Reporting reporting() {
        return reporting;
    }

    public StatusView status() {
        return status.status();
    }

    /** The every-server gate and what the datastore knows of the kube-apiservers that run. */
    public ServerGate gate() {
        return gate;
    }

    /** The stored rotation state; refused where there is none. */
    public Snapshot current() {
        return CurrentState.of(state);
    }

    /** This server's node name and the file its kube-apiserver loads, as the agent names them. */
    public NodeSettings settings() {
        return settings;
    }

    public Clock clock() {
        return clock;
    }

    /** Where the state lives, for messages: the data dir, or etcd's endpoints and prefix. */
    public String describeState() {
        return state.describe();
    }

    private EtcdPrefix etcdPrefix() {
        return settings.etcdPrefix();
    }

    private EtcdDatastore datastore(String why) {
        return etcd.orElseThrow(() -> new CommandRefused(why));
    }

    /** reencrypt and verify over {@code resources} (every resource the config names when empty). */
    public Reencryption reencryption(List<String> resources, PassListener progress) {
        EtcdDatastore e = datastore("reencrypt and verify work on the values stored in etcd, so each needs the "
                + "datastore: run it with --endpoints set to the etcd that kube-apiserver uses (enable --endpoints adopts "
                + "this server's config and stage)");
        StoredValues values = new StoredValues(e.kv(), e::valueWrites);
        Reencryption.Stores stores = new Reencryption.Stores(e.owner(), e.runRecords(), e.findings(), values);
        LiveData live = new LiveData(e.kubernetesData(), etcdPrefix(), state.describe(), warnings, clock);
        KeyRetirement retirement = new KeyRetirement(state, e.runRecords(), e.findings(), values, gate, file,
                etcdPrefix(), clock);
        return new Reencryption(state, stores, gate, live, retirement, settings.nodeName(), etcdPrefix(), resources,
                progress, warnings, clock);
    }

    /** rotate-keys: the same prepare, rotate and reencrypt as the single commands, chained, with bounded waits. */
    public RotateKeys rotateKeys(RotateKeys.Settings waits, PassListener progress, Consumer<String> say) {
        return rotateKeys(waits, progress, say, d -> Thread.sleep(d.toMillis()));
    }

    /** As above, waiting with {@code sleeper}: a test's sleeper moves its clock, so a five-minute wait takes none. */
    RotateKeys rotateKeys(RotateKeys.Settings waits, PassListener progress, Consumer<String> say,
                          RotateKeys.Sleeper sleeper) {
        EtcdDatastore e = datastore("rotate-keys waits for every server of a cluster and re-encrypts the values stored "
                + "in etcd: run it with --endpoints set to the etcd that kube-apiserver uses");
        Optional<RetirementSnapshots> snapshots = waits.snapshots().map(p -> new RetirementSnapshots(p, e.snapshots()));
        return new RotateKeys(steps, gate, state, reencryption(List.of(), progress), snapshots, waits, clock, sleeper,
                say);
    }

    /** The agent's store capabilities: refused in single-server mode, where there is no cluster to lead or report to. */
    public AgentLinks agentLinks(ServerRegistry.Source reads) {
        EtcdDatastore e = datastore("the agent keeps the servers of a cluster in step through etcd: set endpoints in the "
                + "node configuration file (or --endpoints) to the etcd that kube-apiserver uses");
        return new AgentLinks(e.leadership(), e.stateWatch(), ttl -> e.registry().keepReportsAlive(settings.nodeName(),
                ttl, reads), e.owner());
    }

    /** What the agent needs from etcd beyond the use cases: leadership, a watch, its report lease, the pass's owner. */
    public record AgentLinks(Leadership leadership, StateWatch watch,
                             Function<Duration, ServerRegistry.ReportLease> keepReportsAlive, PassOwnership owner) {
    }

    /** nodes and nodes forget: the servers of the cluster; refused in single-server mode, where there is one. */
    public Servers servers() {
        EtcdDatastore e = datastore("nodes lists the servers of a cluster, whose state is in etcd: run it with "
                + "--endpoints (single-server mode has this server only)");
        return new Servers(state, reports, e.registry(), gate, clock);
    }

    /** certs in the cluster; empty in single-server mode, where there is no datastore to read Secrets from. */
    public Optional<ClusterCertificates> clusterCertificates() {
        return etcd.map(e -> new ClusterCertificates(state, new StoredValues(e.kv(), e::valueWrites), settings.configFile(),
                etcdPrefix()));
    }

    @Override
    public void close() {
        etcd.ifPresent(EtcdDatastore::close);
    }
}
