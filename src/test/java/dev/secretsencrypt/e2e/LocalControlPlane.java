package dev.secretsencrypt.e2e;

import dev.secretsencrypt.testing.Await;
import dev.secretsencrypt.apiserver.ApiserverEndpoint;
import dev.secretsencrypt.testing.EtcdCluster;
import dev.secretsencrypt.testing.TestDatastore;
import io.etcd.jetcd.Client;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.concurrent.TimeUnit;

/**
 * kube-apiserver processes on loopback over one datastore (an etcd process, or kine as K3s runs it), all in a temp dir: free ports, certificates and
 * service-account keys made by the test ({@link ControlPlanePki}), each server's {@code --encryption-provider-config}
 * in its own data dir, automatic reload on, each under its node name as host name ({@code unshare --uts}: root).
 * Logs: {@code <root>/<node>/kube-apiserver.log}.
 */
final class LocalControlPlane implements ControlPlane {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(180);

    private final Path root;
    private final TestDatastore etcd;
    private final String datastore;
    private final ControlPlanePki pki;
    private final Path binary;
    private final List<Server> servers = new ArrayList<>();
    private final Thread onExit = new Thread(this::close, "kube-apiserver-shutdown");

    private LocalControlPlane(Path root, TestDatastore etcd, String datastore, ControlPlanePki pki, Path binary) {
        this.root = root;
        this.etcd = etcd;
        this.datastore = datastore;
        this.pki = pki;
        this.binary = binary;
    }

    /** An etcd started now and {@code count} apiservers named node-1…node-N, not yet started. */
    static LocalControlPlane create(Path root, int count) {
        return create(root, count, () -> EtcdCluster.start(1, E2eBinaries.etcd()),
                version(E2eBinaries.etcd()).replace("etcd Version: ", "etcd "));
    }

    /** As {@link #create(Path, int)}, over the datastore {@code start} starts now, {@code datastore} in the output. */
    static LocalControlPlane create(Path root, int count, Supplier<TestDatastore> start, String datastore) {
        Path binary = E2eBinaries.kubeApiserver();
        TestDatastore etcd = start.get();
        LocalControlPlane plane = new LocalControlPlane(root, etcd, datastore,
                ControlPlanePki.create(root.resolve("pki")), binary);
        Runtime.getRuntime().addShutdownHook(plane.onExit);
        for (int i = 1; i <= count; i++) {
            Path home = root.resolve("node-" + i);
            Path dataDir = home.resolve("data");
            try {
                Files.createDirectories(dataDir);
                Files.setPosixFilePermissions(dataDir, PosixFilePermissions.fromString("rwx------"));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create " + dataDir, e);
            }
            int port = freePort();
            KubeApi api = new KubeApi(URI.create("https://127.0.0.1:" + port), plane.pki.clientTls());
            plane.servers.add(new Server(new ApiServer("node-" + i, dataDir, api, "node-" + i), home, port));
        }
        return plane;
    }

    @Override
    public List<ApiServer> servers() {
        return servers.stream().map(Server::server).toList();
    }

    @Override
    public void startServers() {
        for (Server s : servers) {
            launch(s);
        }
        for (Server s : servers) {
            awaitReady(s);
        }
    }

    @Override
    public String etcdEndpoint() {
        return etcd.endpointsCsv();
    }

    @Override
    public List<String> etcdOptions() {
        return List.of();
    }

    @Override
    public Client etcd() {
        return etcd.client();
    }

    @Override
    public boolean loadNow(ApiServer server) {
        Server s = servers.stream().filter(x -> x.server().equals(server)).findFirst().orElseThrow();
        stop(s);
        launch(s);
        awaitReady(s);
        return true;
    }

    @Override
    public Optional<ApiserverEndpoint> apiserverEndpoint(ApiServer server) {
        return Optional.of(new ApiserverEndpoint(server.api().base(), Optional.of(pki.caCert()), Optional.empty(),
                Optional.of(pki.clientCert()), Optional.of(pki.clientKey())));
    }

    @Override
    public String description() {
        return "kube-apiserver " + E2eBinaries.pinned("kube-apiserver", "k8s.io/kubernetes") + " x" + servers.size()
                + " (" + binary + ") on " + datastore;
    }

    @Override
    public void close() {
        for (Server s : servers) {
            stop(s);
        }
        etcd.close();
        try {
            Runtime.getRuntime().removeShutdownHook(onExit);
        } catch (IllegalStateException alreadyExiting) {
            // called from the hook itself
        }
    }

    /** The last lines of a server's log, for failure messages. */
    String logTail(ApiServer server) {
        Server s = servers.stream().filter(x -> x.server().equals(server)).findFirst().orElseThrow();
        return tail(s.log(), 30);
    }

    private void launch(Server s) {
        // each under a host name of its own (a UTS namespace, as root), as on three machines: the host name is what
        // kube-apiserver derives its identity (lease name, apiserver_id_hash) from
        List<String> command = List.of("unshare", "--uts", "sh", "-c", "hostname \"$0\" && exec \"$@\"",
                s.server().hostname(),
                binary.toString(),
                "--etcd-servers=" + etcdEndpoint(),
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                "--secure-port=" + s.port(),
                "--cert-dir=" + s.home().resolve("cert-dir"),
                "--tls-cert-file=" + pki.servingCert(),
                "--tls-private-key-file=" + pki.servingKey(),
                "--client-ca-file=" + pki.caCert(),
                "--authorization-mode=RBAC",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                "--service-account-key-file=" + pki.serviceAccountPublicKey(),
                "--service-account-signing-key-file=" + pki.serviceAccountKey(),
                "--service-cluster-ip-range=10.96.0.0/24",
                "--encryption-provider-config=" + s.server().configFile(),
                "--encryption-provider-config-automatic-reload=true",
                // Three servers share 127.0.0.1: no endpoint reconciling, no flow control, no profiling.
                "--endpoint-reconciler-type=none",
                "--enable-priority-and-fairness=false",
                "--profiling=false");
        try {
            ProcessBuilder pb = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(s.log().toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
            s.process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + binary, e);
        }
    }

    private void awaitReady(Server s) {
        Await.until(READY_TIMEOUT, "kube-apiserver " + s.server().nodeName() + " ready", () -> {
            if (!s.process.isAlive()) {
                throw new IllegalStateException("kube-apiserver " + s.server().nodeName() + " exited with status "
                        + s.process.exitValue() + "; last lines of " + s.log() + ":\n" + tail(s.log(), 30));
            }
            return s.server().api().ready() ? Optional.of(true) : Optional.empty();
        }, () -> "last lines of " + s.log() + ":\n" + tail(s.log(), 30));
    }

    private static void stop(Server s) {
        Process p = s.process;
        if (p == null || !p.isAlive()) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            p.destroyForcibly();
        }
    }

    static String version(Path binary) {
        try {
            Process p = new ProcessBuilder(binary.toString(), "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(30, TimeUnit.SECONDS);
            return out.lines().findFirst().orElse("(no version)").trim();
        } catch (IOException e) {
            return "(version unknown: " + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "(version unknown)";
        }
    }

    private static int freePort() {
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free loopback port for kube-apiserver", e);
        }
    }

    private static String tail(Path log, int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** One apiserver: fixed node name, port and data dir; the process changes across restarts. */
    private static final class Server {
        private final ApiServer server;
        private final Path home;
        private final int port;
        private volatile Process process;

        Server(ApiServer server, Path home, int port) {
            this.server = server;
            this.home = home;
            this.port = port;
        }

        ApiServer server() { return server; }
        Path home() { return home; }
        int port() { return port; }
        Path log() { return home.resolve("kube-apiserver.log"); }
    }
}
