package dev.secretsencrypt.usecase;

import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.config.BoundedFiles;
import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.config.EncryptionConfig;
import dev.secretsencrypt.config.InvalidConfig;
import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.config.KmsProvider;
import dev.secretsencrypt.config.Provider;
import dev.secretsencrypt.config.ProviderType;
import dev.secretsencrypt.rotation.KeyList;
import dev.secretsencrypt.rotation.NodeReport;
import dev.secretsencrypt.rotation.Outcome;
import dev.secretsencrypt.rotation.ReportMatch;
import dev.secretsencrypt.rotation.Rotation;
import dev.secretsencrypt.rotation.RotationState;
import dev.secretsencrypt.rotation.ServerHashes;
import dev.secretsencrypt.rotation.Stage;
import dev.secretsencrypt.store.ClusterState;
import dev.secretsencrypt.store.Membership;
import dev.secretsencrypt.apiserver.ApiserverIdentity;
import dev.secretsencrypt.store.ReencryptionStore;
import dev.secretsencrypt.store.RetiredKeysInUse;
import dev.secretsencrypt.store.ServerRegistry;
import dev.secretsencrypt.store.Snapshot;
import dev.secretsencrypt.failure.StateUnavailable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The use cases of one server node: read the state, apply a rotation rule, store the result with a
 * compare-and-swap, and keep this node's encryption-config.json in line. A refusal changes nothing.
 */
public final class ServerNode {
    private final ClusterState state;
    private final Optional<ClusterState> singleServerRecord;
    private final Optional<ReencryptionStore> runs;
    private final Optional<ClusterLink> cluster;
    private final Membership membership;
    private final Path configFile;
    private final String nodeName;
    private final ApiserverIdentity apiserver;
    private final Rotation rules;
    private final Clock clock;

    /**
     * Built by {@link Session}. {@code singleServerRecord} is the data dir's own stage record when the state lives in
     * etcd (what {@code enable --endpoints} adopts); {@code runs} holds re-encryption records where there is a datastore;
     * {@code cluster} is present in cluster mode.
     */
    ServerNode(ClusterState state, Optional<ClusterState> singleServerRecord, Optional<ReencryptionStore> runs,
               Optional<ClusterLink> cluster, Membership membership, Path configFile, String nodeName,
               ApiserverIdentity apiserver, Rotation rules, Clock clock) {
        this.state = state;
        this.singleServerRecord = singleServerRecord;
        this.runs = runs;
        this.cluster = cluster;
        this.membership = membership;
        this.configFile = configFile;
        this.nodeName = nodeName;
        this.apiserver = apiserver;
        this.rules = rules;
        this.clock = clock;
    }

    /**
     * In cluster mode, the cluster these endpoints lead to (its id read once), which the data dir records once enable
     * or sync succeeded; refused when the data dir belongs to another cluster.
     */
    private Optional<Membership.Joined> ourCluster() {
        Optional<Membership.Joined> joined = cluster.map(ClusterLink::joined);
        joined.ifPresent(j -> membership.requireSameCluster(j.clusterId(), j.endpoints()));
        return joined;
    }

    /**
     * Two machines reporting under one node name (cloned VMs share a host name) would defeat the restart check: one's
     * report would stand for the other's file. Each data dir has its own instance id, and a report from another is
     * refused until the old server is forgotten.
     */
    private void requireOneMachinePerName(ClusterLink c, String instanceId) {
        ServerRegistry.ServerRecord last = c.registry().records().get(nodeName);
        if (last != null && !last.instanceId().equals(instanceId)) {
            throw new CommandRefused("another machine reports as " + nodeName + " (instance " + last.instanceId()
                    + ", last at " + last.reportedAt() + "; this data dir is instance " + instanceId + "): give each "
                    + "server its own --node-name (cloned VMs share a host name). If this machine replaced that one "
                    + "for good, run: secrets-encrypt nodes forget " + nodeName + "; nothing was changed");
        }
    }

    /** The one refusal for a command that needs a rotation state where there is none. */
    static CommandRefused noRotationState(ClusterState state) {
        return new CommandRefused("there is no rotation state in " + state.describe() + ": run enable first");
    }

    /** Adopts this node's existing, valid encryption-config.json when nothing is stored yet. */
    public String enable(ProviderType type) {
        Optional<Membership.Joined> joined = ourCluster();
        Optional<Snapshot> current = state.read().or(this::adoptNodeFile);
        String done = apply(current, s -> rules.enable(s, type, retiredNames(current)));
        joined.ifPresent(membership::join);
        return done;
    }

    public String disable() {
        return apply(state.read(), rules::disable);
    }

    public String prepare(Optional<ProviderType> type, boolean force) {
        return summary(prepareStep(type, force));
    }

    /** prepare as a step of rotate-keys: what changed, without the advice to restart (rotate-keys waits itself). */
    String prepareDone() {
        return done(prepareStep(Optional.empty(), false));
    }

    private Outcome prepareStep(Optional<ProviderType> type, boolean force) {
        Optional<Snapshot> current = state.read();
        return store(current, s -> rules.prepare(s, type, force, retiredNames(current)));
    }

    /** A new key never takes a retired key's name: restored values under that name must stay readable. */
    private static Set<String> retiredNames(Optional<Snapshot> s) {
        return s.map(x -> x.retiredKeys().stream().map(k -> k.key().name()).collect(Collectors.toSet())).orElse(Set.of());
    }

    /**
     * Refused until every server reports the prepared config and every running kube-apiserver is one of theirs, so no
     * server writes with a key others lack.
     */
    public String rotate(boolean force) {
        return summary(rotateStep(force));
    }

    /** rotate as a step of rotate-keys: what changed, without the advice to restart. */
    String rotateDone() {
        return done(rotateStep(false));
    }

    private Outcome rotateStep(boolean force) {
        Optional<Snapshot> current = state.read();
        Outcome outcome = rules.rotate(current.map(Snapshot::rotation), force);
        // -f skips the stage order only: a server that lacks the new key must never see it become the writer
        if (outcome instanceof Outcome.Changed && current.isPresent()) {
            requireEveryServerOn(current.get(), "rotate", current.get().rotation().stage() == Stage.PREPARE
                    ? ReportMatch.CONFIG_AND_STAGE : ReportMatch.CONFIG);
        }
        return store(current, s -> outcome);
    }

    /**
     * Writes this node's file from the state when it differs, then reports what the file now holds. Refused when the
     * file holds a key the cluster does not know, unless {@code force}: values written with it would become unreadable.
     */
    public String sync(boolean force) {
        Snapshot current = state.read().orElseThrow(() -> noRotationState(state));
        Optional<Membership.Joined> joined = ourCluster();
        String instanceId = membership.instanceId();
        cluster.ifPresent(c -> requireOneMachinePerName(c, instanceId));
        Written w = writeNodeFile(current, force);
        NodeReport report = new NodeReport(nodeName, current.rotation().stage(), ConfigFiles.sha256Hex(readNodeFile()));
        String file = (w.written() ? "wrote " : "already up to date: ") + configFile
                + w.retiredWriter().map(warning -> "\nwarning: " + warning).orElse("");
        if (agentReadsTheApiserver()) {
            // its report says what kube-apiserver serves with; a file report over it would claim a reload not seen
            joined.ifPresent(membership::join);
            return file + "; left the report of " + nodeName + " to its agent, which reads what kube-apiserver loaded "
                    + "(stop the agent to report with sync instead)";
        }
        try {
            state.report(report);
        } catch (StateUnavailable cannotReport) {
            // A server etcd does not know is in no safety check: it must register before its apiserver starts.
            boolean registered = state.reports().stream().anyMatch(r -> r.node().equals(nodeName));
            if (!registered) {
                throw new CommandRefused(file + ", but could not register " + nodeName + " in the cluster state ("
                        + cannotReport.getMessage() + "). A server the cluster does not know of is left out of every "
                        + "check before a key is made active or retired, so kube-apiserver must not start with this file "
                        + "yet: free etcd's space (compact, defrag, disarm the NOSPACE alarm), then run sync again");
            }
            // as ExecStartPre, failing here would keep kube-apiserver down although its file is right (etcd NOSPACE);
            // the older report it leaves in place keeps rotate and reencrypt refused
            return file + "\nwarning: could not report " + nodeName + " " + report.value() + ": "
                    + cannotReport.getMessage() + "\nkube-apiserver may start with this file; rotate and reencrypt stay "
                    + "refused until this server reports: run sync again once etcd takes writes";
        }
        // the report speaks for this host's kube-apiserver: the one that loads this file at its start
        cluster.ifPresent(c -> c.registry().record(nodeName, new ServerRegistry.ServerRecord(instanceId,
                clock.instant(), ServerRegistry.Source.FILE, ServerRegistry.Reporter.SYNC,
                Optional.of(apiserver.leaseName()))));
        joined.ifPresent(membership::join);
        return file + "; reported " + nodeName + " " + report.value();
    }

    /**
     * An agent that reads what this server's kube-apiserver loaded is running here, and the server is registered:
     * then the report is the agent's to make, even before its first answer (a sync's file report would claim a load
     * nobody saw). A server with no report at all is registered by sync, so it is never left out of the checks.
     */
    private boolean agentReadsTheApiserver() {
        return cluster.map(c -> c.registry().runningAgents().get(nodeName))
                .filter(agent -> agent.reads() == ServerRegistry.Source.APISERVER).isPresent()
                && state.reports().stream().anyMatch(r -> r.node().equals(nodeName));
    }

    /** This server's finding of a retired key as its file's writer, in words, until a clean pass has run since. */
    public Optional<String> retiredWriterFound() {
        return cluster.flatMap(c -> c.findings().findings().stream().filter(f -> f.node().equals(nodeName)).findFirst())
                .map(RetiredWriter::caution);
    }

    /** Whether a server was found with a retired key as its writer since the last clean pass: one is due. */
    public boolean retiredWriterAnywhere() {
        return cluster.map(c -> !c.findings().findings().isEmpty()).orElse(false);
    }

    /** The kube-apiserver of this identity lease, in words, while its lease says it runs. */
    Optional<String> apiserverStillRunning(String leaseName) {
        Optional<Snapshot> current = state.read();
        return cluster.flatMap(c -> current.flatMap(s -> c.leases().running(s, leaseName)))
                .map(a -> "its identity lease " + a.leaseName() + " (host " + a.host() + ") was renewed "
                        + a.renewedAt().map(t -> java.time.Duration.between(t, clock.instant()).toSeconds() + " s ago")
                        .orElse("lately"));
    }

    /** The kube-apiserver whose metrics carry {@code idHash}, in words (its host and identity lease), if it is known. */
    public Optional<String> apiserverWithIdHash(String idHash) {
        Optional<Snapshot> current = state.read();
        return cluster.flatMap(c -> current.flatMap(s -> c.leases().byIdHash(s, idHash)))
                .map(a -> a.host() + " (identity lease " + a.leaseName() + ")");
    }

    /** The registered servers whose report says what their file holds, not what their kube-apiserver loaded. */
    List<String> serversReportingTheFileOnly() {
        Map<String, ServerRegistry.ServerRecord> records = cluster.map(c -> c.registry().records()).orElse(Map.of());
        return state.reports().stream().map(NodeReport::node).filter(n -> Optional.ofNullable(records.get(n))
                .map(r -> r.source() != ServerRegistry.Source.APISERVER).orElse(true)).toList();
    }

    /** Where the state lives, for messages: the data dir, or etcd's endpoints and prefix. */
    public String describeState() {
        return state.describe();
    }

    /** Refused when another machine reports under this node's name (see sync); nothing to check in single-server mode. */
    public void requireThisMachine() {
        cluster.ifPresent(c -> requireOneMachinePerName(c, membership.instanceId()));
    }

    /** The stored rotation state; refused where there is none. */
    public Snapshot current() {
        return state.read().orElseThrow(() -> noRotationState(state));
    }

    /**
     * This node's file as the agent left it: the state it follows, whether it was just written, its digest, and what
     * to say loudly when the file it replaced had a retired key as its writer.
     */
    public record NodeFile(Snapshot state, boolean written, String sha256Hex, Optional<String> retiredWriter) {
    }

    /**
     * The agent's half of sync: writes this node's file from the state when it differs, and reports nothing (what the
     * apiserver loaded is asked separately). Refused, as sync is, when the file holds a key the cluster lacks.
     */
    public NodeFile keepFileCurrent() {
        Snapshot current = state.read().orElseThrow(() -> noRotationState(state));
        ourCluster();
        Written w = writeNodeFile(current, false);
        return new NodeFile(current, w.written(), ConfigFiles.sha256Hex(readNodeFile()), w.retiredWriter());
    }

    /**
     * The agent's report: this server's kube-apiserver {@code by} loaded the config of digest {@code loadedSha256}
     * while the state was {@code at}, as it says itself. Its agent's lease keeps it alive; once that lapses it reads as
     * stale, never loaded.
     */
    public void reportByAgent(Snapshot at, String loadedSha256, ApiserverIdentity by) {
        ClusterLink c = cluster.orElseThrow(() -> new CommandRefused("the agent reports to a cluster: set endpoints"));
        Optional<Membership.Joined> joined = ourCluster();
        String instanceId = membership.instanceId();
        requireOneMachinePerName(c, instanceId);
        NodeReport report = new NodeReport(nodeName, at.rotation().stage(), loadedSha256);
        state.report(report);
        c.registry().record(nodeName, new ServerRegistry.ServerRecord(instanceId, clock.instant(),
                ServerRegistry.Source.APISERVER, ServerRegistry.Reporter.AGENT, Optional.of(by.leaseName())));
        joined.ifPresent(membership::join);
    }

    public StatusView status() {
        boolean clusterMode = singleServerRecord.isPresent();
        Optional<Snapshot> stored = state.read();
        Optional<Snapshot> shown = stored.or(this::adoptNodeFile);
        if (shown.isEmpty()) {
            return new StatusView.NotConfigured(configFile);
        }
        RotationState s = shown.get().rotation();
        List<NodeReport> reports = state.reports();
        ServerHashes hashes = stored.isPresent() ? ServerHashes.of(s.stage(), shown.get().configHash(), reports)
                : ServerHashes.ofFileOnly(reports);
        KeyList keys = Rotation.keysOf(s.config());
        boolean underWay = s.stage() == Stage.REENCRYPT_ACTIVE || s.stage() == Stage.REENCRYPT_REQUEST;
        // a failed run is shown until the next run replaces it: it says what failed and what to do
        Optional<RunRecord> run = runs.flatMap(r -> RunRecord.fromJson(r.runRecord()))
                .filter(r -> underWay || r.failed() && r.configHash() != null
                        && r.configHash().equals(shown.get().configHash()));
        List<StatusView.KeyRow> retired = shown.get().retiredKeys().stream()
                .map(k -> new StatusView.KeyRow(false, k.type().displayName(), k.key().name())).toList();
        boolean runGone = run.filter(r -> r.status() == RunRecord.Status.RUNNING && s.stage() == Stage.REENCRYPT_ACTIVE)
                .isPresent() && runs.flatMap(ReencryptionStore::owner).isEmpty();
        return new StatusView.Configured(keys.isEnabled(), s.stage(), hashes, keyRows(keys), reports, clusterMode, run,
                runGone, retired, state.describe(), configFile, localFileNote(stored),
                cluster.map(c -> c.registry().records()).orElse(Map.of()), cautions(stored, reports));
    }

    /**
     * What keeps "All hashes match" from being true although every report agrees: a server found with a retired key
     * as its writer (its apiserver may have written values only that key reads), or a kube-apiserver that runs
     * unaccounted for.
     */
    private List<String> cautions(Optional<Snapshot> stored, List<NodeReport> reports) {
        if (cluster.isEmpty() || stored.isEmpty()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (RetiredKeysInUse.Finding f : cluster.get().findings().findings()) {
            out.add(RetiredWriter.caution(f));
        }
        cluster.get().leases().check(stored.get(), reports).problem().ifPresent(out::add);
        return out;
    }

    /** In cluster mode: whether this server's file is the cluster's config byte for byte. */
    private Optional<String> localFileNote(Optional<Snapshot> stored) {
        if (cluster.isEmpty() || stored.isEmpty()) {
            return Optional.empty();
        }
        if (!Files.exists(configFile)) {
            return Optional.of(configFile + " does not exist: run sync on this server");
        }
        byte[] wanted = ConfigFiles.canonicalBytes(stored.get().rotation().config());
        if (Arrays.equals(readNodeFile(), wanted)) {
            return Optional.empty();
        }
        return Optional.of(configFile + " differs from the cluster's config (hand-edited, or not synced yet): run sync "
                + "on this server (it refuses if the file holds a key the cluster lacks)");
    }

    /**
     * Every registered server reports the current config, and every kube-apiserver that runs is one of theirs: rotate
     * also needs the stage part (the prepared config was loaded for what it is); re-encryption stages leave the file
     * as it is, so there the hash alone counts. Without this, a server still writing with a key the others lack, or
     * one about to be retired, loses those Secrets.
     */
    void requireEveryServerOn(Snapshot current, String command, ReportMatch match) {
        serversBehind(current, match).ifPresent(behind -> {
            throw new CommandRefused(command + " is refused: " + behind + ", then run " + command
                    + " again (-f does not skip this check: a server that has not loaded the config would lose data)");
        });
    }

    /** Which servers have not loaded the current config, in a sentence; empty when every registered one has. */
    Optional<String> serversBehind(Snapshot current, ReportMatch match) {
        ServersOnConfig on = serversOn(current, match);
        if (on.noneRegistered()) {
            return Optional.of("no server has reported its hash yet. Run sync on every server");
        }
        if (on.everyServer()) {
            return Optional.empty();
        }
        String todo = on.whatToDo();
        if (on.behind().isEmpty()) {
            return Optional.of(todo); // every server loaded it: what is left is a kube-apiserver none reports for
        }
        return Optional.of("not every server loaded the current config. " + Character.toUpperCase(todo.charAt(0))
                + todo.substring(1));
    }

    /**
     * Every registered server (one that reported), split by whether its report is of the current config, with what
     * each one's agent says keeps it from reporting, and the kube-apiservers that run unaccounted for.
     */
    ServersOnConfig serversOn(Snapshot current, ReportMatch match) {
        String hash = current.configHash();
        Stage stage = current.rotation().stage();
        List<String> loaded = new ArrayList<>();
        List<String> behind = new ArrayList<>();
        List<String> withAgents = new ArrayList<>();
        List<String> stale = new ArrayList<>();
        Map<String, String> agentProblems = new java.util.TreeMap<>();
        Map<String, ServerRegistry.RunningAgent> agents = cluster.map(c -> c.registry().runningAgents()).orElse(Map.of());
        List<NodeReport> reports = state.reports();
        for (NodeReport r : reports) {
            Optional<ServerRegistry.RunningAgent> agent = Optional.ofNullable(agents.get(r.node()));
            if (r.loaded(stage, hash, match)) {
                loaded.add(r.node());
            } else if (!r.readable()) {
                behind.add(r.node() + " (its report does not parse)");
            } else if (r.stale()) {
                behind.add(r.node());
                stale.add(r.node());
            } else {
                behind.add(r.node());
                if (agent.flatMap(ServerRegistry.RunningAgent::problem).isPresent()) {
                    agentProblems.put(r.node(), agent.get().problem().get());
                } else if (agent.filter(a -> a.reads() == ServerRegistry.Source.APISERVER).isPresent()) {
                    withAgents.add(r.node());
                }
            }
        }
        Optional<String> unaccounted = cluster.flatMap(c -> c.leases().check(current, reports).problem());
        return new ServersOnConfig(loaded, behind, withAgents, stale, agentProblems, unaccounted);
    }

    private String apply(Optional<Snapshot> current, Function<Optional<RotationState>, Outcome> rule) {
        return summary(store(current, rule));
    }

    private static String summary(Outcome stored) {
        return stored instanceof Outcome.Changed changed ? changed.summary() : ((Outcome.AlreadyDone) stored).summary();
    }

    private static String done(Outcome stored) {
        return stored instanceof Outcome.Changed changed ? changed.done() : ((Outcome.AlreadyDone) stored).summary();
    }

    /** Applies a rule and stores its new state (with a CAS) and this node's file; returns what it decided. */
    private Outcome store(Optional<Snapshot> current, Function<Optional<RotationState>, Outcome> rule) {
        Outcome outcome = rule.apply(current.map(Snapshot::rotation));
        if (outcome instanceof Outcome.Refused refused) {
            throw new CommandRefused(refused.reason());
        }
        if (outcome instanceof Outcome.AlreadyDone) {
            return outcome;
        }
        Outcome.Changed changed = (Outcome.Changed) outcome;
        boolean unchanged = current.isPresent() && current.get().revision() > 0
                && current.get().rotation().equals(changed.next());
        if (!unchanged) {
            Snapshot base = current.orElse(Snapshot.unsaved(changed.next()));
            Snapshot next = base.with(changed.next());
            requireNodeFileKeysKept(next, false);
            Snapshot saved = state.replace(base.revision(), next);
            writeNodeFile(saved, false); // a retired writer it replaced is recorded: status says so
        }
        return changed;
    }

    /** This node's file (and, if it ran in single-server mode before, the stage it recorded) as an unsaved state. */
    private Optional<Snapshot> adoptNodeFile() {
        if (!Files.exists(configFile)) {
            return Optional.empty();
        }
        Optional<Snapshot> local = singleServerRecord.flatMap(ClusterState::read);
        if (local.isPresent()) {
            return Optional.of(Snapshot.unsaved(local.get().rotation()));
        }
        try {
            return Optional.of(Snapshot.unsaved(new RotationState(Stage.START, ConfigFiles.read(configFile),
                    Optional.empty())));
        } catch (InvalidConfig e) {
            throw new CommandRefused(e.getMessage() + ": fix or remove " + configFile + " first; nothing was changed");
        }
    }

    /** What writing this node's file did, and what to say when the file it replaced wrote with a retired key. */
    record Written(boolean written, Optional<String> retiredWriter) {
    }

    /** Writes the file when it differs from the state's config; identical bytes are left alone. */
    Written writeNodeFile(Snapshot snapshot, boolean force) {
        EncryptionConfig config = snapshot.rotation().config();
        requireNodeFileKeysKept(snapshot, force);
        byte[] wanted = ConfigFiles.canonicalBytes(config);
        if (Files.exists(configFile) && Arrays.equals(readNodeFile(), wanted)) {
            return new Written(false, Optional.empty());
        }
        // before the file changes: once it is replaced, nothing would show that its apiserver wrote with a retired key
        Optional<String> retiredWriter = noteRetiredWriter(snapshot);
        try {
            ConfigFiles.write(configFile, config);
            return new Written(true, retiredWriter);
        } catch (InvalidConfig e) {
            throw new CommandRefused("refusing to write an invalid config: " + e.getMessage());
        } catch (IOException e) {
            throw new StateUnavailable("cannot write " + configFile + ": " + e.getMessage(), e);
        }
    }

    /**
     * A file whose writer (the first key of a rule's first provider) is a key the cluster retired: its kube-apiserver
     * may have written Secrets no other server can read (a server forgotten, then back with its old file). Recorded in
     * the cluster state so status says so and reencrypt runs to rewrite them; said loudly to whoever replaces the file.
     * A retired key that is only a reader there is the normal file of the stage before retirement: no value was
     * written with it since it stopped being the writer.
     */
    private Optional<String> noteRetiredWriter(Snapshot next) {
        if (next.retiredKeys().isEmpty() || !Files.exists(configFile)) {
            return Optional.empty();
        }
        EncryptionConfig onDisk;
        try {
            onDisk = ConfigFiles.read(configFile);
        } catch (InvalidConfig e) {
            return Optional.empty(); // kube-apiserver loads no unreadable file: it wrote with nothing in it
        }
        Map<Reader, dev.secretsencrypt.store.RetiredKey> retired = new java.util.HashMap<>();
        next.retiredKeys().forEach(k -> retired.put(Reader.of(k.type(), k.key()), k));
        List<dev.secretsencrypt.store.RetiredKey> writers = onDisk.resources().stream()
                .map(rule -> rule.providers().get(0))
                .filter(p -> p instanceof KeyedProvider k && !k.keys().isEmpty())
                .map(p -> (KeyedProvider) p)
                .map(k -> retired.get(Reader.of(k.type(), k.keys().get(0))))
                .filter(java.util.Objects::nonNull).distinct().toList();
        if (writers.isEmpty()) {
            return Optional.empty();
        }
        List<String> names = writers.stream().map(k -> k.type().field() + "/" + k.key().name()).toList();
        cluster.ifPresent(c -> c.findings().found(new RetiredKeysInUse.Finding(nodeName, names, clock.instant(),
                configFile.toString(), 0)));
        return Optional.of(RetiredWriter.found(configFile, writers));
    }

    /**
     * Every key in this node's current file is in the new config or kept as retired: otherwise the values this server's
     * apiserver wrote with it (a server set up apart, say) would become unreadable when the file is replaced.
     */
    private void requireNodeFileKeysKept(Snapshot next, boolean force) {
        if (force || !Files.exists(configFile)) {
            return;
        }
        EncryptionConfig onDisk;
        try {
            onDisk = ConfigFiles.read(configFile);
        } catch (InvalidConfig e) {
            return; // an unreadable file gives kube-apiserver no key to lose; replacing it is the repair
        }
        Set<Reader> known = new HashSet<>(readersIn(next.rotation().config()));
        next.retiredKeys().forEach(k -> known.add(Reader.of(k.type(), k.key())));
        List<String> lost = readersIn(onDisk).stream().filter(k -> !known.contains(k)).map(Reader::toString)
                .distinct().toList();
        if (!lost.isEmpty()) {
            throw new CommandRefused(configFile + " holds key(s) or provider(s) the cluster state does not: "
                    + String.join(", ", lost) + ". Replacing the file would make the values this server wrote with them "
                    + "unreadable. If no value was ever written with them, run sync -f; if etcd was restored from an older "
                    + "snapshot, restore the state to match; otherwise keep this file and reconcile first (verify counts "
                    + "the stored values per key); nothing was changed");
        }
    }

    /**
     * A provider entry that can read stored data. A key is its type, name and a digest of its secret (a same-named key
     * with another secret is another key; base64 line-wrapping is not); toString names it without the secret.
     */
    private sealed interface Reader {
        record KeyReader(ProviderType type, String name, String secretSha256) implements Reader {
            @Override
            public String toString() {
                return type.field() + "/" + name;
            }
        }

        record KmsReader(String apiVersion, String name, String endpoint) implements Reader {
            @Override
            public String toString() {
                return "kms" + apiVersion + "/" + name;
            }
        }

        record IdentityReader() implements Reader {
            @Override
            public String toString() {
                return "identity";
            }
        }

        static Reader of(ProviderType type, Key key) {
            return new KeyReader(type, key.name(), ConfigFiles.sha256Hex(key.secretBytes()));
        }
    }

    /** Every provider entry of the config that can read stored data. */
    private static List<Reader> readersIn(EncryptionConfig config) {
        List<Reader> out = new ArrayList<>();
        config.resources().forEach(rule -> rule.providers().forEach(p -> {
            if (p instanceof KeyedProvider k) {
                k.keys().forEach(key -> out.add(Reader.of(k.type(), key)));
            } else if (p instanceof KmsProvider kms) {
                out.add(new Reader.KmsReader(kms.effectiveApiVersion(), kms.name(), kms.endpoint()));
            } else {
                out.add(new Reader.IdentityReader());
            }
        }));
        return out;
    }

    private byte[] readNodeFile() {
        try {
            return BoundedFiles.read(configFile, BoundedFiles.CONFIG_LIMIT);
        } catch (IOException e) {
            throw new StateUnavailable("cannot read " + configFile + ": " + e.getMessage(), e);
        }
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
