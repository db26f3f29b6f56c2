package dev.secretsencrypt.store;

import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.failure.StateUnavailable;
import io.etcd.jetcd.Auth;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Cluster;
import io.etcd.jetcd.Election;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.Lease;
import io.etcd.jetcd.Lock;
import io.etcd.jetcd.Maintenance;
import io.etcd.jetcd.Watch;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * kine's unix socket (a single k3s server's {@code /var/lib/rancher/k3s/server/kine.sock}) as a loopback port that
 * only this process can use: jetcd 0.8.5 dials TCP only. Every connection accepted is looked up in /proc/net/tcp by
 * its ports, and bridged only when its socket is one of this process's file descriptors; any other local user's
 * connection is closed before a byte is read, so the socket's root-only mode still holds while the bridge runs.
 */
final class UnixSocketBridge implements AutoCloseable {
    static final String DEFAULT = "unix:///var/lib/rancher/k3s/server/kine.sock";
    private static final Path PROC_NET = Path.of("/proc/net");
    private static final Path OWN_FDS = Path.of("/proc/self/fd");
    private static final int BUFFER = 64 * 1024;
    private static final AtomicInteger BRIDGES = new AtomicInteger();

    private final Path socket;
    private final ServerSocketChannel listener;
    private final int port;
    private final ExecutorService threads;
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
    private final AtomicLong refused = new AtomicLong();
    private final Future<?> accepting;
    private volatile boolean closed;

    private UnixSocketBridge(Path socket, ServerSocketChannel listener) throws IOException {
        this.socket = socket;
        this.listener = listener;
        this.port = ((InetSocketAddress) listener.getLocalAddress()).getPort();
        String name = "kine-bridge-" + BRIDGES.incrementAndGet();
        AtomicInteger count = new AtomicInteger();
        this.threads = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, name + "-" + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.accepting = threads.submit(this::acceptLoop);
    }

    /** Whether {@code endpoint} names a unix socket, as etcd clients write one: {@code unix:///path} or {@code unix://path}. */
    static boolean isUnix(String endpoint) {
        return endpoint.trim().toLowerCase(Locale.ROOT).startsWith("unix:");
    }

    /** The socket's path: {@code unix:///abs/kine.sock} is absolute, {@code unix://kine.sock} is under the working dir. */
    static Path socketPath(String endpoint) {
        String text = endpoint.trim();
        if (!text.toLowerCase(Locale.ROOT).startsWith("unix://") || text.length() == "unix://".length()) {
            throw new CommandRefused("'" + text + "' is not a unix socket endpoint: give unix:///path/to/kine.sock, "
                    + "e.g. " + DEFAULT);
        }
        return Path.of("").toAbsolutePath().resolve(text.substring("unix://".length())).normalize();
    }

    /**
     * A bridge to the socket of {@code endpoint} (the operator's words, for messages), once one connection to it
     * succeeded, so a wrong path or a missing permission is said here rather than as a timeout of jetcd's.
     */
    static UnixSocketBridge open(String endpoint) {
        Path socket = socketPath(endpoint);
        requireProc(endpoint);
        quietly(connect(socket, endpoint));
        try {
            ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.INET);
            listener.bind(new InetSocketAddress("127.0.0.1", 0), 16);
            return new UnixSocketBridge(socket, listener);
        } catch (IOException e) {
            throw new StateUnavailable("cannot listen on 127.0.0.1 for the bridge to kine's socket " + endpoint + ": "
                    + e.getMessage(), e);
        }
    }

    /** What jetcd dials: the loopback port. Never shown to the operator, whose endpoint is the unix:// one. */
    URI target() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** Connections closed unbridged because another process made them. */
    long refused() {
        return refused.get();
    }

    /** {@code client}, whose {@link Client#close()} closes this bridge after it: the two live as long as each other. */
    Client closedWith(Client client) {
        return new BridgedClient(client, this);
    }

    @Override
    public void close() {
        closed = true;
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing: nothing to tell
        }
        try {
            // an accept() in progress holds the port open until it returns: closed means no longer listening
            accepting.get(2, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException ignored) {
            // the loop ended otherwise, or is stuck: the threads are stopped below either way
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        open.forEach(UnixSocketBridge::quietly);
        threads.shutdownNow();
    }

    private static void requireProc(String endpoint) {
        if (!Files.isReadable(PROC_NET.resolve("tcp")) || !Files.isReadable(OWN_FDS)) {
            throw new CommandRefused("cannot use kine's socket " + endpoint + " here: /proc/net/tcp and /proc/self/fd "
                    + "are not readable, and without them the loopback bridge to the socket cannot keep other users "
                    + "out; run where /proc is mounted (as on any k3s server), or give kine's TCP address instead");
        }
    }

    private static SocketChannel connect(Path socket, String endpoint) {
        String k3s = "is k3s running on this server? the default is " + DEFAULT;
        try {
            return SocketChannel.open(UnixDomainSocketAddress.of(socket));
        } catch (IOException e) {
            String reason = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
            if (reason.contains("permission denied")) {
                // the socket's mode, or a directory on the way that cannot be searched (k3s' server dir is 0700)
                throw rootOnly(endpoint);
            }
            if (reason.contains("no such file") || Files.notExists(socket)) {
                throw new StateUnavailable("no kine socket at " + endpoint + ": " + k3s);
            }
            if (!isSocket(socket)) {
                throw new CommandRefused(endpoint + " is not a socket: give kine's socket, the default is " + DEFAULT);
            }
            throw new StateUnavailable("nothing answers on kine's socket " + endpoint + " (" + e.getMessage() + "): "
                    + k3s);
        }
    }

    private static StateUnavailable rootOnly(String endpoint) {
        return new StateUnavailable("kine's socket " + endpoint + " is readable by root only: run as root");
    }

    private static boolean isSocket(Path path) {
        try {
            return ((Integer) Files.getAttribute(path, "unix:mode") & 0170000) == 0140000;
        } catch (IOException | UnsupportedOperationException e) {
            return true; // cannot tell: say what the connection said
        }
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel tcp;
            try {
                tcp = listener.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                continue; // one failed accept (a peer that reset at once): the next one may succeed
            }
            if (closed) {
                quietly(tcp);
                return;
            }
            if (!fromThisProcess(tcp)) {
                refused.incrementAndGet();
                quietly(tcp);
                continue;
            }
            SocketChannel unix;
            try {
                unix = SocketChannel.open(UnixDomainSocketAddress.of(socket));
            } catch (IOException e) {
                quietly(tcp); // jetcd sees the connection drop, and says kine is unavailable at the operator's endpoint
                continue;
            }
            open.add(tcp);
            open.add(unix);
            AtomicInteger directions = new AtomicInteger(2);
            threads.execute(() -> copy(tcp, unix, directions));
            threads.execute(() -> copy(unix, tcp, directions));
        }
    }

    /** Bytes from {@code from} to {@code to} until {@code from} ends; then half-closes {@code to}, or closes both. */
    private void copy(SocketChannel from, SocketChannel to, AtomicInteger directions) {
        ByteBuffer buffer = ByteBuffer.allocate(BUFFER);
        try {
            while (from.read(buffer) >= 0) {
                buffer.flip();
                while (buffer.hasRemaining()) {
                    to.write(buffer);
                }
                buffer.clear();
            }
            to.shutdownOutput(); // half-close: the other direction may still carry an answer
            if (directions.decrementAndGet() == 0) {
                closeBoth(from, to);
            }
        } catch (IOException e) {
            closeBoth(from, to);
        }
    }

    private void closeBoth(SocketChannel a, SocketChannel b) {
        open.remove(a);
        open.remove(b);
        quietly(a);
        quietly(b);
    }

    private static void quietly(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException ignored) {
            // already gone
        }
    }

    /**
     * Whether the peer of {@code accepted} is a socket of this process: its end is the line of /proc/net/tcp (or tcp6,
     * where a dual-stack socket dials 127.0.0.1 as ::ffff:127.0.0.1) from its port to ours, and that line's inode is
     * one of /proc/self/fd's {@code socket:[inode]}.
     */
    private boolean fromThisProcess(SocketChannel accepted) {
        try {
            InetSocketAddress peer = (InetSocketAddress) accepted.getRemoteAddress();
            if (peer == null || !peer.getAddress().isLoopbackAddress()) {
                return false;
            }
            Set<String> inodes = new HashSet<>();
            for (String table : List.of("tcp", "tcp6")) {
                Path file = PROC_NET.resolve(table);
                if (Files.isReadable(file)) {
                    inodes.addAll(peerInodes(Files.readAllLines(file), peer.getPort(), port));
                }
            }
            if (inodes.isEmpty()) {
                return false;
            }
            try (Stream<Path> fds = Files.list(OWN_FDS)) {
                return fds.anyMatch(fd -> inodes.contains(socketInode(fd)));
            }
        } catch (IOException | RuntimeException e) {
            return false; // cannot tell whose it is: not bridged
        }
    }

    /** The inodes of /proc/net/tcp lines from loopback port {@code from} to loopback port {@code to}. */
    static Set<String> peerInodes(List<String> lines, int from, int to) {
        Set<String> inodes = new HashSet<>();
        for (String line : lines) {
            String[] f = line.trim().split("\\s+");
            if (f.length < 10 || !f[1].contains(":") || !f[2].contains(":")) {
                continue; // the header
            }
            if (isLoopback(f[1], from) && isLoopback(f[2], to) && !f[9].equals("0")) {
                inodes.add(f[9]);
            }
        }
        return inodes;
    }

    /** "0100007F:8AA9": an address as 32-bit words in the kernel's byte order, then the port in hex. */
    private static boolean isLoopback(String hexAddressAndPort, int port) {
        int colon = hexAddressAndPort.indexOf(':');
        String hex = hexAddressAndPort.substring(0, colon);
        if (Integer.parseInt(hexAddressAndPort.substring(colon + 1), 16) != port || hex.length() % 8 != 0) {
            return false;
        }
        ByteBuffer address = ByteBuffer.allocate(hex.length() / 2).order(ByteOrder.nativeOrder());
        for (int i = 0; i < hex.length(); i += 8) {
            address.putInt((int) Long.parseLong(hex.substring(i, i + 8), 16));
        }
        try {
            InetAddress a = InetAddress.getByAddress(address.array()); // an IPv4-mapped one comes back as IPv4
            return a.isLoopbackAddress();
        } catch (IOException e) {
            return false;
        }
    }

    private static String socketInode(Path fd) {
        try {
            String link = Files.readSymbolicLink(fd).toString();
            return link.startsWith("socket:[") && link.endsWith("]") ? link.substring(8, link.length() - 1) : "";
        } catch (NoSuchFileException e) {
            return ""; // closed meanwhile
        } catch (IOException e) {
            return "";
        }
    }

    /** jetcd's client, closing the bridge after itself. */
    private record BridgedClient(Client client, UnixSocketBridge bridge) implements Client {
        @Override
        public Auth getAuthClient() {
            return client.getAuthClient();
        }

        @Override
        public KV getKVClient() {
            return client.getKVClient();
        }

        @Override
        public Cluster getClusterClient() {
            return client.getClusterClient();
        }

        @Override
        public Maintenance getMaintenanceClient() {
            return client.getMaintenanceClient();
        }

        @Override
        public Lease getLeaseClient() {
            return client.getLeaseClient();
        }

        @Override
        public Watch getWatchClient() {
            return client.getWatchClient();
        }

        @Override
        public Lock getLockClient() {
            return client.getLockClient();
        }

        @Override
        public Election getElectionClient() {
            return client.getElectionClient();
        }

        @Override
        public void close() {
            try {
                client.close();
            } finally {
                bridge.close();
            }
        }
    }
}
