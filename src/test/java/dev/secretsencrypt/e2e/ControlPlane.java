package dev.secretsencrypt.e2e;

import dev.secretsencrypt.apiserver.ApiserverEndpoint;
import io.etcd.jetcd.Client;
import java.util.List;
import java.util.Optional;

/**
 * Where the scenarios run: kube-apiservers that load {@code <server data dir>/encryption-config.json} with
 * automatic reload on, over one etcd the tool reaches too. {@link LocalControlPlane} runs processes on
 * loopback; {@link K3sControlPlane} runs K3s in a container.
 */
interface ControlPlane extends AutoCloseable {

    /** The apiservers, in node order (node-1, node-2, …); their data dirs exist, the servers may not run yet. */
    List<ApiServer> servers();

    /** Starts every apiserver and waits until each is ready; each loads its data dir's file, which must exist. */
    void startServers();

    /** The etcd URL for the tool's {@code --endpoints} (kube-apiserver's datastore, prefix /registry). */
    String etcdEndpoint();

    /** Extra tool options to reach that etcd (TLS files), none for plain loopback. */
    List<String> etcdOptions();

    /** A jetcd client on that etcd, for reading raw stored values; closed with the control plane. */
    Client etcd();

    /**
     * Makes a server load its file now rather than at its next once-a-minute poll, as `systemctl restart
     * kube-apiserver` does; returns false where it cannot (the caller then waits for the automatic reload).
     */
    boolean loadNow(ApiServer server);

    /** How the tool's --apiserver-* options reach this server's /metrics; empty where the test cannot say. */
    default Optional<ApiserverEndpoint> apiserverEndpoint(ApiServer server) {
        return Optional.empty();
    }

    /** Versions and shape, for the test output: "kube-apiserver v1.37.2 ×3 on etcd 3.6.16". */
    String description();

    @Override
    void close();
}
