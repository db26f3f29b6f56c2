package dev.secretsencrypt.cli;

import dev.secretsencrypt.apiserver.ApiserverIdentity;
import dev.secretsencrypt.usecase.NodeSettings;
import dev.secretsencrypt.store.EtcdPrefix;
import dev.secretsencrypt.store.EtcdSettings;
import dev.secretsencrypt.store.StatePrefix;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;


/** The options every command shares: where this node's files are, and where the cluster's truth lives. Options only. */
public final class NodeOptions {
    @Option(names = {"-d", "--data-dir"}, paramLabel = "DIR",
            defaultValue = "/var/lib/secrets-encrypt",
            description = "Holds encryption-config.json (the file kube-apiserver reads). Env SECRETS_ENCRYPT_DATA_DIR. "
                    + "Default: ${DEFAULT-VALUE}")
    Path dataDir;

    @Option(names = "--node-name", paramLabel = "NAME",
            description = "This server's name in reports. Env NODE_NAME. Default: the host name")
    String nodeName;

    @Option(names = "--apiserver-hostname", paramLabel = "NAME",
            description = "The host name this server's kube-apiserver runs under: it names the apiserver's identity "
                    + "lease (apiserver-...) and its metrics' apiserver_id_hash, which tie this server's reports to its "
                    + "own kube-apiserver. Default: this machine's host name, as kube-apiserver takes it")
    String apiserverHostname;

    @Option(names = "--config", paramLabel = "FILE",
            description = "Node configuration file: any long option by its long name (endpoints, cacert, cert, key, "
                    + "token-file, node-name, data-dir...). Flags and environment override it. Env SECRETS_ENCRYPT_CONFIG. "
                    + "Default: /etc/secrets-encrypt/config.yaml when it exists")
    Path config;

    @Option(names = "--endpoints", split = ",", paramLabel = "URL", converter = EtcdEndpoint.class,
            description = "etcd or kine URLs (comma-separated: https://10.0.0.11:2379, or host:port as etcdctl "
                    + "takes it; or a single k3s server's kine socket, unix:///var/lib/rancher/k3s/server/kine.sock) "
                    + "holding the cluster state. Env SECRETS_ENCRYPT_ENDPOINTS or ETCDCTL_ENDPOINTS. Absent: "
                    + "single-server mode on the data dir alone")
    List<String> endpoints;

    @Option(names = "--cacert", paramLabel = "FILE",
            description = "CA certificate that signed etcd's server certificate. Env ETCDCTL_CACERT. Default with "
                    + "https: the system's trusted CAs")
    Path cacert;

    @Option(names = "--cert", paramLabel = "FILE", description = "Client certificate for etcd (PEM). Env ETCDCTL_CERT")
    Path cert;

    @Option(names = "--key", paramLabel = "FILE",
            description = "Client certificate's private key for etcd (PEM: PKCS#8, RSA PKCS#1 as kubeadm writes, or EC "
                    + "SEC1 as k3s and rke2 write). Env ETCDCTL_KEY")
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

    @Option(names = "--etcd-timeout", paramLabel = "SECONDS", defaultValue = "5", converter = EtcdEndpoint.Seconds.class,
            description = "How long to wait for etcd before giving up. Default: ${DEFAULT-VALUE}")
    int etcdTimeoutSeconds;

    /** The environment Main.run was given (its defaults are already in the options): never System.getenv here. */
    Map<String, String> environment = Map.of();

    /** The settings these options (and their environment defaults) describe: values only. */
    NodeSettings settings() {
        Optional<EtcdSettings> etcd = Optional.empty();
        if (endpoints != null && !endpoints.isEmpty()) {
            etcd = Optional.of(new EtcdSettings(endpoints, Optional.ofNullable(cacert), Optional.ofNullable(cert),
                    Optional.ofNullable(key), new EtcdSettings.TokenSource(Optional.ofNullable(token),
                    token != null && token.equals(environment.get("SECRETS_ENCRYPT_TOKEN")), Optional.ofNullable(tokenFile),
                    dataDir.resolve("token")), StatePrefix.of(statePrefix), Duration.ofSeconds(etcdTimeoutSeconds)));
        }
        return new NodeSettings(dataDir, nodeName(), etcd, EtcdPrefix.of(etcdPrefix), ApiserverIdentity.ofHostname(apiserverHostname()));
    }

    /** The etcd client certificate and key, which certs checks too. */
    Optional<Path> cert() {
        return Optional.ofNullable(cert);
    }

    Optional<Path> key() {
        return Optional.ofNullable(key);
    }

    /** What kube-apiserver's os.Hostname() reads on Linux: the kernel's host name, not a DNS lookup. */
    private String apiserverHostname() {
        if (apiserverHostname != null && !apiserverHostname.isBlank()) {
            return apiserverHostname.trim();
        }
        try {
            String kernel = java.nio.file.Files.readString(Path.of("/proc/sys/kernel/hostname")).trim();
            if (!kernel.isEmpty()) {
                return kernel;
            }
        } catch (java.io.IOException | RuntimeException notLinux) {
            // below: the JVM's own idea of the host name
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "localhost";
        }
    }

    private String nodeName() {
        if (nodeName != null && !nodeName.isBlank()) {
            return nodeName;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return environment.getOrDefault("HOSTNAME", "localhost");
        }
    }
}
