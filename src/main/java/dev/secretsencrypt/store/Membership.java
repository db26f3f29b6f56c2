package dev.secretsencrypt.store;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.secretsencrypt.config.AtomicFiles;
import dev.secretsencrypt.config.BoundedFiles;
import dev.secretsencrypt.config.OsReason;
import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.failure.StateUnavailable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.UUID;

/**
 * What a data dir knows of the cluster it belongs to ({@code cluster.json}: the cluster id, endpoints and state
 * prefix) and of the machine it is on ({@code instance-id}). A data dir that belongs to a cluster is never used in
 * single-server mode by a command that merely forgot its endpoints.
 */
public final class Membership {
    public static final String CLUSTER_FILE = "cluster.json";
    public static final String INSTANCE_FILE = "instance-id";
    private static final ObjectMapper JSON = new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    private final Path dataDir;

    public Membership(Path dataDir) {
        this.dataDir = dataDir;
    }

    /** The cluster this data dir joined with enable or sync: its id and where its state is. */
    public record Joined(String clusterId, String endpoints, String statePrefix) {
    }

    public Optional<Joined> joined() {
        Path file = dataDir.resolve(CLUSTER_FILE);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(BoundedFiles.read(file, BoundedFiles.SMALL_LIMIT), Joined.class));
        } catch (IOException e) {
            throw new StateUnavailable(file + " is damaged (" + e.getMessage() + "): it records which cluster this data "
                    + "dir belongs to; restore it, or delete it and run sync with the cluster's --endpoints");
        }
    }

    /** Refused when this data dir belongs to a cluster: single-server mode is never chosen by omission. */
    public void requireNoCluster() {
        joined().ifPresent(j -> {
            throw new CommandRefused("the data dir " + dataDir + " belongs to the cluster " + j.clusterId() + " whose "
                    + "state is at " + j.endpoints() + ": run the command with --endpoints " + j.endpoints()
                    + " (or set endpoints in /etc/secrets-encrypt/config.yaml); without them it would act on this "
                    + "server alone");
        });
    }

    /**
     * Refused when this data dir's cluster keeps its state under another prefix: under {@code statePrefix} there is
     * either nothing (a command would show an empty cluster, or start a second one) or another cluster.
     */
    public void requireSameStatePrefix(String statePrefix) {
        joined().filter(j -> j.statePrefix() != null && !j.statePrefix().equals(statePrefix)).ifPresent(j -> {
            throw new CommandRefused("the data dir " + dataDir + " belongs to the cluster " + j.clusterId() + " whose "
                    + "state is under --state-prefix " + j.statePrefix() + " (at " + j.endpoints() + "), not "
                    + statePrefix + ": run the command with --state-prefix " + j.statePrefix() + " (or without "
                    + "--state-prefix if that is the default); if this server really moved to another cluster, remove "
                    + dataDir.resolve(CLUSTER_FILE) + " first; nothing was changed");
        });
    }

    /** Refused when this data dir belongs to another cluster than the one at these endpoints. */
    public void requireSameCluster(String clusterId, String endpoints) {
        joined().filter(j -> !j.clusterId().equals(clusterId)).ifPresent(j -> {
            throw new CommandRefused("the data dir " + dataDir + " belongs to the cluster " + j.clusterId() + " (at "
                    + j.endpoints() + "), but the datastore at " + endpoints + " holds the cluster " + clusterId + ": check "
                    + "--endpoints; if this server really moved to another cluster, remove " + dataDir.resolve(CLUSTER_FILE)
                    + " first; nothing was changed");
        });
    }

    public void join(Joined cluster) {
        if (joined().equals(Optional.of(cluster))) {
            return;
        }
        try {
            AtomicFiles.write(dataDir.resolve(CLUSTER_FILE), JSON.writeValueAsBytes(cluster));
        } catch (IOException e) {
            throw new StateUnavailable("cannot write " + dataDir.resolve(CLUSTER_FILE) + ": " + OsReason.of(e), e);
        }
    }

    /** This machine's id, made on first use: two machines sharing one node name (cloned VMs) are told apart by it. */
    public String instanceId() {
        Path file = dataDir.resolve(INSTANCE_FILE);
        try {
            if (Files.exists(file)) {
                String id = new String(BoundedFiles.read(file, BoundedFiles.SMALL_LIMIT), StandardCharsets.UTF_8).trim();
                if (!id.isEmpty()) {
                    return id;
                }
            }
            String id = UUID.randomUUID().toString();
            AtomicFiles.write(file, (id + "\n").getBytes(StandardCharsets.UTF_8));
            return id;
        } catch (IOException e) {
            throw new StateUnavailable("cannot read or write " + file + ": " + OsReason.of(e), e);
        }
    }
}
