package dev.secretsencrypt.e2e;

import dev.secretsencrypt.testing.Await;
import io.etcd.jetcd.Client;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.testcontainers.containers.BindMode;
import org.testcontainers.k3s.K3sContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * One K3s server in a container (Testcontainers): embedded etcd ({@code --cluster-init}), its kube-apiserver
 * pointed at the tool's file through {@code --kube-apiserver-arg}, the data dir bind-mounted at the same path,
 * and the etcd and admin client certificates copied out. Image: {@code -De2e.k3s.image}, default below.
 * NOT verified on this project's machines: they have no Docker engine.
 */
final class K3sControlPlane implements ControlPlane {
    // kube-apiserver exports last_config_info from 1.34 on.
    static final String DEFAULT_IMAGE = "rancher/k3s:v1.34.1-k3s1";
    private static final String TLS = "/var/lib/rancher/k3s/server/tls/";

    /** The container's host name, which names the apiserver K3s runs in it. */
    static final String K3S_HOSTNAME = "node-1";
    private final Path root;
    private final Path dataDir;
    private K3sContainer k3s;
    private ApiServer server;
    private Client etcd;
    private Path tls;

    private K3sControlPlane(Path root, Path dataDir) {
        this.root = root;
        this.dataDir = dataDir;
        this.server = new ApiServer("node-1", dataDir, null, K3S_HOSTNAME);
    }

    static K3sControlPlane create(Path root) {
        Path dataDir = root.resolve("node-1").resolve("data");
        try {
            Files.createDirectories(dataDir);
            Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dataDir, e);
        }
        return new K3sControlPlane(root, dataDir);
    }

    @Override
    public List<ApiServer> servers() {
        return List.of(server);
    }

    @Override
    @SuppressWarnings("resource") // closed in close()
    public void startServers() {
        String config = server.configFile().toString();
        k3s = new K3sContainer(DockerImageName.parse(System.getProperty("e2e.k3s.image", DEFAULT_IMAGE)))
                .withFileSystemBind(dataDir.toString(), dataDir.toString(), BindMode.READ_WRITE)
                .withCommand("server", "--disable=traefik", "--tls-san=" + "localhost", "--cluster-init",
                        "--kube-apiserver-arg=encryption-provider-config=" + config,
                        "--kube-apiserver-arg=encryption-provider-config-automatic-reload=true");
        k3s.addExposedPorts(2379);
        k3s.start();
        tls = root.resolve("k3s-tls");
        try {
            Files.createDirectories(tls);
            Files.setPosixFilePermissions(tls, PosixFilePermissions.fromString("rwx------"));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + tls, e);
        }
        for (String f : List.of("etcd/server-ca.crt", "etcd/client.crt", "etcd/client.key",
                "server-ca.crt", "client-admin.crt", "client-admin.key")) {
            k3s.copyFileFromContainer(TLS + f, tls.resolve(f.replace('/', '-')).toString());
        }
        // The tool reads PKCS#8 keys; the REST client a PKCS#12 bundle: openssl converts both.
        openssl("pkey", "-in", "etcd-client.key", "-out", "etcd-client-pkcs8.key");
        openssl("pkcs12", "-export", "-in", "client-admin.crt", "-inkey", "client-admin.key", "-out", "client.p12",
                "-passout", "pass:e2e-client");
        try {
            Files.copy(tls.resolve("server-ca.crt"), tls.resolve("ca.crt"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        URI api = URI.create("https://" + k3s.getHost() + ":" + k3s.getMappedPort(6443));
        server = new ApiServer("node-1", dataDir, new KubeApi(api, new ControlPlanePki(tls).clientTls()), K3S_HOSTNAME);
        Await.until(Duration.ofSeconds(120), "K3s' kube-apiserver ready", () -> server.api().ready());
    }

    @Override
    public String etcdEndpoint() {
        return "https://" + k3s.getHost() + ":" + k3s.getMappedPort(2379);
    }

    @Override
    public List<String> etcdOptions() {
        return List.of("--cacert", tls.resolve("etcd-server-ca.crt").toString(),
                "--cert", tls.resolve("etcd-client.crt").toString(), "--key", tls.resolve("etcd-client-pkcs8.key").toString());
    }

    @Override
    public synchronized Client etcd() {
        if (etcd == null) {
            try {
                etcd = Client.builder().endpoints(etcdEndpoint()).sslContext(ssl -> ssl
                        .trustManager(tls.resolve("etcd-server-ca.crt").toFile())
                        .keyManager(tls.resolve("etcd-client.crt").toFile(), tls.resolve("etcd-client-pkcs8.key").toFile()))
                        .build();
            } catch (SSLException e) {
                throw new IllegalStateException("cannot use K3s's etcd client certificate: " + e.getMessage(), e);
            }
        }
        return etcd;
    }

    @Override
    public boolean loadNow(ApiServer server) {
        return false; // restarting K3s's embedded apiserver restarts the container; wait for the automatic reload
    }

    @Override
    public String description() {
        return "K3s " + System.getProperty("e2e.k3s.image", DEFAULT_IMAGE) + " x1 (embedded etcd)";
    }

    @Override
    public synchronized void close() {
        if (etcd != null) {
            etcd.close();
        }
        if (k3s != null) {
            k3s.stop();
        }
    }

    private void openssl(String... args) {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(command).directory(tls.toFile()).redirectErrorStream(true).start();
            String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException("openssl " + args[0] + " failed on K3s's certificates: " + output);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
