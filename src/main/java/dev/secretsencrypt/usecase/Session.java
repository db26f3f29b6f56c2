package dev.secretsencrypt.usecase;

import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.reencrypt.PassListener;
import dev.secretsencrypt.reencrypt.StoredValues;
import dev.secretsencrypt.rotation.Rotation;
import dev.secretsencrypt.store.ClusterState;
import dev.secretsencrypt.store.DataDir;
import dev.secretsencrypt.store.EtcdConnection;
import dev.secretsencrypt.store.EtcdPrefix;
import dev.secretsencrypt.store.EtcdSettings;
import dev.secretsencrypt.store.Membership;
import dev.secretsencrypt.store.EtcdState;
import dev.secretsencrypt.store.Leadership;
import dev.secretsencrypt.store.LocalState;
import dev.secretsencrypt.store.Ownership;
import dev.secretsencrypt.store.ReencryptionStore;
import dev.secretsencrypt.store.ServerRegistry;
import dev.secretsencrypt.store.StateWatch;
import java.nio.file.Path;
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
    private final Optional<EtcdState> etcd;
    private final ServerNode node;
    private final Clock clock;
    private final Consumer<String> warnings;

    private Session(NodeSettings settings, ClusterState state, Optional<EtcdState> etcd, ServerNode node, Clock clock,
                    Consumer<String> warnings) {
        this.settings = settings;
        this.state = state;
        this.etcd = etcd;
        this.node = node;
        this.clock = clock;
        this.warnings = warnings;
    }

    /** {@code warnings} hears what the operator should know but that does not stop the command. */
    public static Session open(NodeSettings settings, Clock clock, SecureRandom random, Consumer<String> warnings) {
        Path configFile = settings.dataDir().resolve(LocalState.CONFIG_FILE);
        DataDir.check(settings.dataDir(), configFile).forEach(warnings);
        LocalState local = new LocalState(settings.dataDir(), settings.nodeName());
        Membership membership = new Membership(settings.dataDir());
        Rotation rules = new Rotation(clock, random);
        if (settings.etcd().isEmpty()) {
            membership.requireNoCluster(); // single-server mode is chosen by having no cluster, never by omission
            ServerNode node = new ServerNode(local, Optional.empty(), Optional.empty(), Optional.empty(), membership,
                    configFile, settings.nodeName(), settings.apiserver(), rules, clock);
            return new Session(settings, local, Optional.empty(), node, clock, warnings);
        }
        EtcdSettings where = settings.etcd().get();
        EtcdState etcd = EtcdConnection.open(where, warnings);
        IdentityLeases leases = new IdentityLeases(new StoredValues(etcd.datastore()), EtcdPrefix.of(settings.etcdPrefix()),
                etcd, clock);
        ClusterLink link = new ClusterLink(etcd, String.join(",", where.endpoints()), where.statePrefix().toString(),
                leases, etcd);
        ServerNode node = new ServerNode(etcd, Optional.of(local), Optional.of(etcd), Optional.of(link), membership,
                configFile, settings.nodeName(), settings.apiserver(), rules, clock);
        return new Session(settings, etcd, Optional.of(etcd), node, clock, warnings);
    }

    public ServerNode node() {
        return node;
    }

    /** reencrypt and verify over {@code resources} (every resource the config names when empty). */
    public Reencryption reencryption(List<String> resources, PassListener progress) {
        EtcdState datastore = etcd.orElseThrow(() -> new CommandRefused("reencrypt and verify work on the values "
                + "stored in etcd, so each needs the datastore: run it with --endpoints set to the etcd that "
                + "kube-apiserver uses (enable --endpoints adopts this server's config and stage)"));
        return new Reencryption(node, datastore, datastore, datastore, new StoredValues(datastore.datastore()),
                settings.nodeName(), EtcdPrefix.of(settings.etcdPrefix()), resources, progress, warnings, clock);
    }

    /** rotate-keys: the same prepare, rotate and reencrypt as the single commands, chained, with bounded waits. */
    public RotateKeys rotateKeys(RotateKeys.Settings settings, PassListener progress, Consumer<String> say) {
        return rotateKeys(settings, progress, say, d -> Thread.sleep(d.toMillis()));
    }

    /** As above, waiting with {@code sleeper}: a test's sleeper moves its clock, so a five-minute wait takes none. */
    RotateKeys rotateKeys(RotateKeys.Settings settings, PassListener progress, Consumer<String> say,
                          RotateKeys.Sleeper sleeper) {
        EtcdState datastore = etcd.orElseThrow(() -> new CommandRefused("rotate-keys waits for every server of a "
                + "cluster and re-encrypts the values stored in etcd: run it with --endpoints set to the etcd that "
                + "kube-apiserver uses"));
        Optional<RetirementSnapshots> snapshots = settings.snapshots().map(p -> new RetirementSnapshots(p, datastore));
        return new RotateKeys(node, datastore, reencryption(List.of(), progress), snapshots, settings, clock, sleeper,
                say);
    }

    /** The agent's store capabilities: refused in single-server mode, where there is no cluster to lead or report to. */
    public AgentLinks agentLinks(ServerRegistry.Source reads) {
        EtcdState store = etcd.orElseThrow(() -> new CommandRefused("the agent keeps the servers of a cluster in step "
                + "through etcd: set endpoints in the node configuration file (or --endpoints) to the etcd that "
                + "kube-apiserver uses"));
        return new AgentLinks(store.leadership(), store.stateWatch(), ttl -> store.keepReportsAlive(settings.nodeName(),
                ttl, reads), store);
    }

    /** What the agent needs from etcd beyond the use cases: leadership, a watch, its report lease, the stored runs. */
    public record AgentLinks(Leadership leadership, StateWatch watch,
                             Function<Duration, ServerRegistry.ReportLease> keepReportsAlive,
                             ReencryptionStore runs) {
    }

    /** nodes and nodes forget: the servers of the cluster; refused in single-server mode, where there is one. */
    public Servers servers() {
        EtcdState registry = etcd.orElseThrow(() -> new CommandRefused("nodes lists the servers of a cluster, whose "
                + "state is in etcd: run it with --endpoints (single-server mode has this server only)"));
        return new Servers(registry, node, clock);
    }

    /** certs in the cluster; empty in single-server mode, where there is no datastore to read Secrets from. */
    public Optional<ClusterCertificates> clusterCertificates() {
        return etcd.map(datastore -> new ClusterCertificates(datastore, new StoredValues(datastore.datastore()),
                settings.dataDir().resolve(LocalState.CONFIG_FILE), EtcdPrefix.of(settings.etcdPrefix())));
    }

    @Override
    public void close() {
        state.close();
    }
}
