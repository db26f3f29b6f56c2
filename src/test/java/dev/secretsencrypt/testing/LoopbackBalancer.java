package dev.secretsencrypt.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP load balancer on 127.0.0.1 in front of several apiservers, as K3s' and RKE2's client load balancer or a local
 * haproxy is on a server node: each connection goes to the next backend in turn (TLS passes through), and a connection
 * idle for a while is closed, so a client's next request after a pause lands on another apiserver.
 */
public final class LoopbackBalancer implements AutoCloseable {
    private final ServerSocket listener;
    private final int idleMillis;
    private final List<Integer> backends;
    private final AtomicInteger next = new AtomicInteger();
    private final Thread acceptor;
    private volatile boolean open = true;

    private LoopbackBalancer(ServerSocket listener, List<Integer> backends, int idleMillis) {
        this.listener = listener;
        this.idleMillis = idleMillis;
        this.backends = List.copyOf(backends);
        this.acceptor = new Thread(this::accept, "loopback-balancer");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** Balances over these loopback ports, the first connection going to the first; idle connections end after 1 s. */
    public static LoopbackBalancer over(List<Integer> backendPorts) {
        return over(backendPorts, 1000);
    }

    public static LoopbackBalancer over(List<Integer> backendPorts, int idleMillis) {
        try {
            return new LoopbackBalancer(new ServerSocket(0, 50, InetAddress.getLoopbackAddress()), backendPorts,
                    idleMillis);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen on loopback", e);
        }
    }

    /** {@code https://127.0.0.1:<port>}, an address of this machine, as an operator would give it. */
    public URI url() {
        return URI.create("https://127.0.0.1:" + listener.getLocalPort());
    }

    private void accept() {
        while (open) {
            try {
                Socket client = listener.accept();
                int port = backends.get(Math.floorMod(next.getAndIncrement(), backends.size()));
                Socket backend = new Socket(InetAddress.getLoopbackAddress(), port);
                client.setSoTimeout(idleMillis);
                backend.setSoTimeout(idleMillis);
                pipe(client, backend);
                pipe(backend, client);
            } catch (IOException e) {
                if (open) {
                    continue; // one backend down: the next connection tries the next one
                }
                return;
            }
        }
    }

    // copies until either side is idle or closes, then closes both: an idle connection ends here
    private static void pipe(Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buffer = new byte[16384];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                for (int n; (n = in.read(buffer)) >= 0; ) {
                    out.write(buffer, 0, n);
                    out.flush();
                }
            } catch (SocketTimeoutException idle) {
                // closed below
            } catch (IOException gone) {
                // closed below
            } finally {
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "loopback-balancer-pipe");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() {
        open = false;
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing
        }
    }
}
