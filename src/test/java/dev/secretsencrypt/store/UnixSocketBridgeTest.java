package dev.secretsencrypt.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.failure.OperatorError;
import dev.secretsencrypt.failure.StateUnavailable;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loopback bridge to a unix socket, against an echoing unix socket that counts what reaches it: this process's
 * connections are carried both ways (half-close included), another process's are closed before a byte is forwarded.
 */
@Tag("unit")
class UnixSocketBridgeTest {
    /** A child that connects, sends, and prints how the bridge answered: "closed N", "reset N" or "open N". */
    static final String FOREIGN_CLIENT = """
            import socket, sys
            s = socket.create_connection(('127.0.0.1', int(sys.argv[1])), timeout=10)
            try:
                s.sendall(b'PRI * HTTP/2.0\\r\\n\\r\\nSM\\r\\n\\r\\n' + b'x' * 1000)
            except OSError:
                pass
            got = b''
            try:
                while True:
                    d = s.recv(4096)
                    if not d:
                        print('closed', len(got)); break
                    got += d
            except socket.timeout:
                print('open', len(got))
            except OSError:
                print('reset', len(got))
            """;

    @TempDir
    Path tmp;
    Echo echo;
    UnixSocketBridge bridge;

    @AfterEach
    void close() throws IOException {
        if (bridge != null) {
            bridge.close();
        }
        if (echo != null) {
            echo.close();
        }
    }

    @Test
    void aConnectionOfThisProcessIsCarriedBothWaysAndItsHalfCloseReachesTheSocket() throws Exception {
        echo = new Echo(tmp.resolve("kine.sock"));
        bridge = UnixSocketBridge.open("unix://" + tmp.resolve("kine.sock"));
        assertTrue(bridge.target().toString().startsWith("http://127.0.0.1:"), bridge.target().toString());
        for (int round = 0; round < 3; round++) {
            try (Socket own = new Socket("127.0.0.1", bridge.target().getPort())) {
                byte[] sent = ("hello " + round + " ").repeat(20_000).getBytes(StandardCharsets.UTF_8);
                own.getOutputStream().write(sent);
                own.shutdownOutput(); // the echo answers until it reads the end, then closes
                assertEquals(new String(sent, StandardCharsets.UTF_8),
                        new String(own.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            }
        }
        assertEquals(4, echo.accepted.get(), "three bridged connections and the bridge's test connection at its start");
        assertEquals(0, bridge.refused());
    }

    @Test
    void aConnectionOfAnotherProcessIsClosedWithoutAByteForwardedEitherWay() throws Exception {
        assumeTrue(python3(), "python3 is needed to connect from another process");
        echo = new Echo(tmp.resolve("kine.sock"));
        bridge = UnixSocketBridge.open("unix://" + tmp.resolve("kine.sock"));
        int before = echo.accepted.get();

        assertTrue(foreignClient(bridge.target().getPort()).matches("(closed|reset) 0"));
        assertEquals(1, bridge.refused());
        assertEquals(before, echo.accepted.get(), "the socket was not even connected to");
        assertEquals(0, echo.bytes.get());

        // and this process's own connections still are carried
        try (Socket own = new Socket("127.0.0.1", bridge.target().getPort())) {
            own.getOutputStream().write("mine".getBytes(StandardCharsets.UTF_8));
            own.shutdownOutput();
            assertEquals("mine", new String(own.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
        }
        assertEquals(4, echo.bytes.get());
    }

    @Test
    void closingTheBridgeClosesItsPortAndItsConnections() throws Exception {
        echo = new Echo(tmp.resolve("kine.sock"));
        bridge = UnixSocketBridge.open("unix://" + tmp.resolve("kine.sock"));
        int port = bridge.target().getPort();
        Socket own = new Socket("127.0.0.1", port);
        own.getOutputStream().write(1);
        assertEquals(1, own.getInputStream().read());
        bridge.close();
        own.setSoTimeout(5000);
        assertTrue(endOrReset(own.getInputStream()), "the bridged connection ends with the bridge");
        assertThrows(IOException.class, () -> new Socket("127.0.0.1", port).close());
        own.close();
    }

    @Test
    void whatAnOperatorIsToldWhenTheSocketCannotBeReached() throws Exception {
        String missing = "unix://" + tmp.resolve("nothing.sock");
        assertEquals("no kine socket at " + missing + ": is k3s running on this server? the default is "
                + "unix:///var/lib/rancher/k3s/server/kine.sock", refusal(StateUnavailable.class, missing));

        Files.writeString(tmp.resolve("file"), "x");
        String file = "unix://" + tmp.resolve("file");
        assertEquals(file + " is not a socket: give kine's socket, the default is "
                + "unix:///var/lib/rancher/k3s/server/kine.sock", refusal(CommandRefused.class, file));

        // k3s stopped: its socket file is left behind, and nothing listens on it
        try (ServerSocketChannel gone = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            gone.bind(UnixDomainSocketAddress.of(tmp.resolve("stale.sock")));
        }
        String stale = "unix://" + tmp.resolve("stale.sock");
        String said = refusal(StateUnavailable.class, stale);
        assertTrue(said.startsWith("nothing answers on kine's socket " + stale + " (") && said.endsWith("): is k3s "
                + "running on this server? the default is unix:///var/lib/rancher/k3s/server/kine.sock"), said);
    }

    @Test
    void aUnixEndpointIsRefusedWithTlsFilesAndWithOtherEndpoints() {
        String sock = "unix://" + tmp.resolve("kine.sock");
        CommandRefused tls = assertThrows(CommandRefused.class, () -> EtcdConnection.connect(settings(List.of(sock),
                Optional.of(tmp.resolve("ca.crt")))));
        assertEquals("--endpoints " + sock + " is kine's unix socket, which is plain (no TLS), but TLS files were given "
                + "(--cacert/--cert/--key): drop the TLS files", tls.getMessage());
        CommandRefused mixed = assertThrows(CommandRefused.class, () -> EtcdConnection.connect(settings(
                List.of("http://127.0.0.1:2379", sock), Optional.empty())));
        assertEquals("--endpoints gives the unix socket " + sock + " with other endpoints: a unix socket is the one "
                + "kine of this server, give it alone", mixed.getMessage());
    }

    @Test
    void aRelativeSocketIsUnderTheWorkingDirectoryAsEtcdClientsTakeIt() {
        Path here = Path.of("").toAbsolutePath();
        assertEquals(here.resolve("run/kine.sock"), UnixSocketBridge.socketPath("unix://run/kine.sock"));
        assertEquals(Path.of("/var/lib/rancher/k3s/server/kine.sock"),
                UnixSocketBridge.socketPath("unix:///var/lib/rancher/k3s/server/kine.sock"));
        assertTrue(UnixSocketBridge.isUnix(" UNIX:///x"));
        assertFalse(UnixSocketBridge.isUnix("http://127.0.0.1:2379"));
    }

    @Test
    void aPeerIsFoundInProcNetTcpByItsPortsOnLoopbackOnly() {
        assumeTrue(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN, "the lines below are a little-endian kernel's");
        // 127.0.0.1:50000 -> 127.0.0.1:40000, its reverse (the accepted end), another port, and 10.0.0.1:50000
        List<String> tcp = List.of(
                "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
                "   0: 0100007F:C350 0100007F:9C40 01 00000000:00000000 00:00000000 00000000  1000        0 111 1 0",
                "   1: 0100007F:9C40 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 222 1 0",
                "   2: 0100007F:C351 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 333 1 0",
                "   3: 0100000A:C350 0100007F:9C40 01 00000000:00000000 00:00000000 00000000     0        0 444 1 0");
        assertEquals(Set.of("111"), UnixSocketBridge.peerInodes(tcp, 50000, 40000));
        // a dual-stack socket that dialled 127.0.0.1 is ::ffff:127.0.0.1 in tcp6
        List<String> tcp6 = List.of("   0: 0000000000000000FFFF00000100007F:C350 0000000000000000FFFF00000100007F:9C40 "
                + "01 00000000:00000000 00:00000000 00000000     0        0 555 1 0");
        assertEquals(Set.of("555"), UnixSocketBridge.peerInodes(tcp6, 50000, 40000));
    }

    // ---- helpers ----

    static String foreignClient(int port) throws Exception {
        Process child = new ProcessBuilder("python3", "-c", FOREIGN_CLIENT, String.valueOf(port))
                .redirectErrorStream(true).start();
        String said = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertTrue(child.waitFor(20, TimeUnit.SECONDS), "the child ended");
        return said;
    }

    static boolean python3() {
        try {
            return new ProcessBuilder("python3", "-c", "pass").start().waitFor() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static boolean endOrReset(InputStream in) {
        try {
            return in.read() == -1;
        } catch (IOException e) {
            return !(e instanceof java.net.SocketTimeoutException);
        }
    }

    private static String refusal(Class<? extends OperatorError> type, String endpoint) {
        return assertThrows(type, () -> UnixSocketBridge.open(endpoint)).getMessage();
    }

    private EtcdSettings settings(List<String> endpoints, Optional<Path> cacert) {
        return new EtcdSettings(endpoints, cacert, Optional.empty(), Optional.empty(),
                new EtcdSettings.TokenSource(Optional.of("t"), true, Optional.empty(), tmp.resolve("token")),
                StatePrefix.of("/secrets-encrypt/"), Duration.ofSeconds(5));
    }

    /** A unix socket that echoes what it reads until the end, counting connections and bytes. */
    static final class Echo implements AutoCloseable {
        final AtomicInteger accepted = new AtomicInteger();
        final AtomicLong bytes = new AtomicLong();
        private final ServerSocketChannel server;

        Echo(Path path) throws IOException {
            server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
            server.bind(UnixDomainSocketAddress.of(path));
            Thread t = new Thread(this::serve, "echo");
            t.setDaemon(true);
            t.start();
        }

        private void serve() {
            while (server.isOpen()) {
                try {
                    SocketChannel c = server.accept();
                    accepted.incrementAndGet();
                    Thread t = new Thread(() -> echo(c), "echo-conn");
                    t.setDaemon(true);
                    t.start();
                } catch (IOException e) {
                    return;
                }
            }
        }

        private void echo(SocketChannel c) {
            try (c) {
                ByteBuffer b = ByteBuffer.allocate(8192);
                int n;
                while ((n = c.read(b)) >= 0) {
                    bytes.addAndGet(n);
                    b.flip();
                    while (b.hasRemaining()) {
                        c.write(b);
                    }
                    b.clear();
                }
            } catch (IOException e) {
                // the test's end
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
