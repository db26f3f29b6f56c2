package dev.secretsencrypt.e2e;

import java.nio.file.Path;

/**
 * One kube-apiserver as the tool sees its server: a node name, the data dir whose encryption-config.json
 * the apiserver loads, its REST API, and the host name it runs under (which names its identity lease).
 */
record ApiServer(String nodeName, Path dataDir, KubeApi api, String hostname) {

    Path configFile() {
        return dataDir.resolve("encryption-config.json");
    }
}
