package dev.secretsencrypt.cli;

import dev.secretsencrypt.node.Reencryption;
import dev.secretsencrypt.node.ServerNode;
import dev.secretsencrypt.rotation.Rotation;
import dev.secretsencrypt.store.ClusterState;
import dev.secretsencrypt.store.DataDir;
import dev.secretsencrypt.store.EtcdState;
import dev.secretsencrypt.store.LocalState;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** The options every command shares: where this node's files are, and where the cluster's truth lives. */
public final class NodeOptions {
    @Option(names = {"-d", "--data-dir"}, paramLabel = "DIR",
            defaultValue = "${env:SECRETS_ENCRYPT_DATA_DIR:-/var/lib/secrets-encrypt}",
            description = "Holds encryption-config.json (the file kube-apiserver reads). Env SECRETS_ENCRYPT_DATA_DIR. "
                    + "Default: ${DEFAULT-VALUE}")
    Path dataDir;

    @Option(names = "--node-name", paramLabel = "NAME", defaultValue = "${env:NODE_NAME}",
            description = "This server's name in reports. Env NODE_NAME. Default: the host name")
    String nodeName;

    @Option(names = "--endpoints", split = ",", paramLabel = "URL", defaultValue = "${env:SECRETS_ENCRYPT_ENDPOINTS}",
            description = "etcd URLs (comma-separated) holding the cluster state. Env SECRETS_ENCRYPT_ENDPOINTS. "
                    + "Absent: single-server mode on the data dir alone")
    List<String> endpoints;

    @Option(names = "--cacert", paramLabel = "FILE", description = "CA certificate that signed etcd's server certificate")
    Path cacert;

    @Option(names = "--cert", paramLabel = "FILE", description = "Client certificate for etcd (PEM)")
    Path cert;

    @Option(names = "--key", paramLabel = "FILE", description = "Client certificate's private key for etcd (PEM, PKCS#8)")
    Path key;

    @Option(names = "--token", paramLabel = "TOKEN", defaultValue = "${env:SECRETS_ENCRYPT_TOKEN}",
            description = "Cluster token that wraps the state in etcd (the same on every server). Env "
                    + "SECRETS_ENCRYPT_TOKEN. Prefer --token-file: a command line is visible to other users")
    String token;

    @Option(names = "--token-file", paramLabel = "FILE", description = "File holding the cluster token. Default: <data-dir>/token")
    Path tokenFile;

    @Option(names = "--state-prefix", paramLabel = "PREFIX", defaultValue = "/secrets-encrypt/",
            description = "etcd prefix of this tool's state. Default: ${DEFAULT-VALUE}")
    String statePrefix;

    @Option(names = "--etcd-prefix", paramLabel = "PREFIX", defaultValue = "/registry",
            description = "kube-apiserver's --etcd-prefix: Secrets are under <prefix>/secrets/. Default: ${DEFAULT-VALUE}")
    String etcdPrefix;

    @Option(names = "--etcd-timeout", paramLabel = "SECONDS", defaultValue = "5",
            description = "How long to wait for etcd before giving up. Default: ${DEFAULT-VALUE}")
    int etcdTimeoutSeconds;

    public String nodeName() {
        if (nodeName != null && !nodeName.isBlank()) {
            return nodeName;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return System.getenv().getOrDefault("HOSTNAME", "localhost");
        }
    }

    public boolean clusterMode() {
        return endpoints != null && !endpoints.isEmpty();
    }

    @Spec(Spec.Target.MIXEE)
    CommandSpec command;

    /** Warnings go to the command's error stream, so a script reading stdout sees results only. */
    void warn(String text) {
        command.commandLine().getErr().println(text);
    }

    public ClusterState openState() {
        DataDir.check(dataDir, dataDir.resolve(LocalState.CONFIG_FILE)).forEach(this::warn);
        if (!clusterMode()) {
            return new LocalState(dataDir, nodeName());
        }
        return new EtcdState(EtcdConnection.connect(this), statePrefix, EtcdConnection.token(this),
                String.join(",", endpoints), Duration.ofSeconds(etcdTimeoutSeconds));
    }

    /** reencrypt and verify: this node, the datastore, and the resources named with --resources (all when none). */
    public Reencryption reencryption(ServerNode node, ClusterState state, List<String> resources) {
        return new Reencryption(node, state, nodeName(), etcdPrefix, resources == null ? List.of() : resources,
                System.err, Clock.systemUTC());
    }

    public ServerNode node(ClusterState state) {
        return new ServerNode(state, dataDir.resolve(LocalState.CONFIG_FILE), nodeName(),
                new Rotation(Clock.systemUTC(), new SecureRandom()));
    }
}
