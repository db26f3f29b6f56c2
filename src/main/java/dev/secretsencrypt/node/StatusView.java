package dev.secretsencrypt.node;

import dev.secretsencrypt.rotation.NodeReport;
import dev.secretsencrypt.rotation.ServerHashes;
import dev.secretsencrypt.rotation.Stage;
import java.util.List;
import java.util.Optional;

/** What `status` shows, before formatting: no key secret is in here. */
public record StatusView(boolean configured, boolean enabled, Stage stage, ServerHashes hashes, List<KeyRow> keys,
                         List<NodeReport> nodes, boolean clusterMode, Optional<RunRecord> reencryption,
                         List<KeyRow> retiredKeys) {
    /** One row of the key table: {@code AES-CBC aescbckey}, or {@code KMSv2 <name>}. */
    public record KeyRow(boolean active, String type, String name) {
    }

    public static StatusView notConfigured() {
        return new StatusView(false, false, Stage.START, new ServerHashes("", List.of()), List.of(), List.of(), false,
                Optional.empty(), List.of());
    }
}
