package dev.secretsencrypt.usecase;

import dev.secretsencrypt.rotation.NodeReport;
import dev.secretsencrypt.rotation.ServerHashes;
import dev.secretsencrypt.rotation.Stage;
import java.util.List;
import java.util.Optional;

/** What `status` shows, before formatting: no key secret is in here. */
public sealed interface StatusView {
    /** No state and no config file: encryption was never set up here. */
    record NotConfigured() implements StatusView {
    }

    record Configured(boolean enabled, Stage stage, ServerHashes hashes, List<KeyRow> keys, List<NodeReport> nodes,
                      boolean clusterMode, Optional<RunRecord> reencryption, List<KeyRow> retiredKeys)
            implements StatusView {
    }

    /** One row of the key table: {@code AES-CBC aescbckey}, or {@code KMSv2 <name>}. */
    record KeyRow(boolean active, String type, String name) {
    }
}
