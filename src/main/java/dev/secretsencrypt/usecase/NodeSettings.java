package dev.secretsencrypt.usecase;

import dev.secretsencrypt.apiserver.ApiserverIdentity;
import dev.secretsencrypt.store.EtcdPrefix;
import dev.secretsencrypt.store.EtcdSettings;
import dev.secretsencrypt.store.LocalState;
import java.nio.file.Path;
import java.util.Optional;

/**
 * What a server node is configured with, whatever it came from (flags, environment): its data dir and name, the
 * etcd that holds the cluster state (absent: single-server mode), kube-apiserver's {@code --etcd-prefix}, and the
 * identity of this server's own kube-apiserver (which its reports speak for).
 */
public record NodeSettings(Path dataDir, String nodeName, Optional<EtcdSettings> etcd, EtcdPrefix etcdPrefix,
                           ApiserverIdentity apiserver) {

    /** This server's {@code encryption-config.json}: the file its kube-apiserver loads. */
    public Path configFile() {
        return dataDir.resolve(LocalState.CONFIG_FILE);
    }
}
