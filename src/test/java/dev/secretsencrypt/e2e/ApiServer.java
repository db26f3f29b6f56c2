package dev.secretsencrypt.e2e;

import java.nio.file.Path;

/**
 * One kube-apiserver as the tool sees its server: a node name, the data dir whose encryption-config.json
 * the apiserver loads, and its REST API.
 */
record ApiServer(String nodeName, Path dataDir, KubeApi api) {

    Path configFile() {
        return dataDir.resolve("encryption-config.json");
    }
}
