package dev.secretsencrypt.usecase;

import dev.secretsencrypt.rotation.NodeReport;
import dev.secretsencrypt.rotation.ServerHashes;
import dev.secretsencrypt.rotation.Stage;
import dev.secretsencrypt.store.ServerRegistry;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** What `status` shows, before formatting: no key secret is in here. */
public sealed interface StatusView {
    /** No state and no config file: encryption was never set up here; {@code lookedAt} is the file looked for. */
    record NotConfigured(Path lookedAt) implements StatusView {
    }

    /**
     * {@code source} says where the state was read (the data dir, or etcd's endpoints and prefix); {@code runGone} is
     * true when a run is recorded as running but its owner's lease lapsed; {@code localFile} says when this server's
     * file is not the cluster's config (hand-edited, or not synced yet); {@code records} say where each report came from;
 * {@code cautions} say what else keeps the servers from being in line.
     */
    record Configured(boolean enabled, Stage stage, ServerHashes hashes, List<KeyRow> keys, List<NodeReport> nodes,
                      boolean clusterMode, Optional<RunRecord> reencryption, boolean runGone, List<KeyRow> retiredKeys,
                      String source, Path configFile, Optional<String> localFile,
                      Map<String, ServerRegistry.ServerRecord> records, List<String> cautions)
            implements StatusView {
        public Configured {
            records = Map.copyOf(records);
            cautions = List.copyOf(cautions);
        }

        /**
         * What the hash line says is wrong: two servers that disagree, else what keeps matching reports from being the
         * whole truth (a retired key found as a server's writer, a kube-apiserver no server reports for).
         */
        public Optional<String> hashProblem() {
            return hashes.mismatch().or(() -> cautions.stream().findFirst());
        }

        /** Where a server's report came from ({@code apiserver}, {@code file}), when its record says. */
        public Optional<ServerRegistry.Source> reportSource(String node) {
            return Optional.ofNullable(records.get(node)).map(ServerRegistry.ServerRecord::source);
        }
    }

    /** One row of the key table: {@code AES-CBC aescbckey}, or {@code KMSv2 <name>}. */
    record KeyRow(boolean active, String type, String name) {
    }
}
