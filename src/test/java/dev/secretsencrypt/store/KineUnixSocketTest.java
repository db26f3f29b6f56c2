package dev.secretsencrypt.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.secretsencrypt.cli.Main;
import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.envelope.ProviderChain;
import dev.secretsencrypt.testing.Await;
import dev.secretsencrypt.testing.Kine;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.op.Cmp;
import io.etcd.jetcd.op.CmpTarget;
import io.etcd.jetcd.op.Op;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * kine on a unix socket only, as a default single k3s server runs it ({@code /var/lib/rancher/k3s/server/kine.sock}):
 * the tool's commands given {@code --endpoints unix://…} rotate and re-encrypt through the in-process bridge, name
 * the unix:// endpoint and never the bridge's port, and another process gets nothing through that port.
 */
@Tag("kine")
class KineUnixSocketTest {
    static final String DEFAULT_SOCKET = "unix:///var/lib/rancher/k3s/server/kine.sock";
    @TempDir
    static Path kineDir;
    static Process kine;
    static Path socket;
    static String endpoint;

    @TempDir
    Path tmp;
    final List<String> printed = new ArrayList<>();

    @BeforeAll
    static void startKine() throws Exception {
        socket = kineDir.resolve("kine.sock");
        endpoint = "unix://" + socket;
        kine = new ProcessBuilder(Kine.findBinary().toString(), "--listen-address", endpoint,
                "--metrics-bind-address", "0", "--endpoint", "sqlite://" + kineDir.resolve("state.db")
                + "?_journal_mode=WAL&_busy_timeout=30000").redirectErrorStream(true)
                .redirectOutput(kineDir.resolve("kine.log").toFile()).start();
        Await.until(Duration.ofSeconds(30), "kine answering on " + endpoint, () -> {
            if (!kine.isAlive()) {
                throw new IllegalStateException("kine exited with " + kine.exitValue() + " (log: "
                        + kineDir.resolve("kine.log") + ")");
            }
            if (!Files.exists(socket)) {
                return false;
            }
            try (UnixSocketBridge bridge = UnixSocketBridge.open(endpoint); Client c = client(bridge)) {
                return !c.getKVClient().get(bytes("/registry/health")).get(2, TimeUnit.SECONDS).getKvs().isEmpty();
            } catch (Exception notYet) {
                return false;
            }
        });
    }

    @AfterAll
    static void stopKine() throws InterruptedException {
        kine.destroy();
        kine.waitFor(10, TimeUnit.SECONDS);
    }

    @Test
    void theManualStepsRotateAndReencryptOnKineThroughItsUnixSocket() throws Exception {
        Map<String, byte[]> plain = new HashMap<>();
        ok(cli("enable"));
        ok(cli("sync"));
        Envelope old = chain().writer();
        try (UnixSocketBridge bridge = UnixSocketBridge.open(endpoint); Client c = client(bridge)) {
            c.getKVClient().put(bytes("/registry/namespaces/default"), ByteSequence.from("k8s\0namespace",
                    StandardCharsets.ISO_8859_1)).get(10, TimeUnit.SECONDS);
            for (int i = 0; i < 300; i++) {
                String key = String.format("/registry/secrets/ns-%02d/s-%05d", i % 10, i);
                byte[] value = ("k8s\0secret " + i).getBytes(StandardCharsets.ISO_8859_1);
                plain.put(key, value);
                ByteSequence k = bytes(key);
                // kine takes a create per key, the one write it takes in a transaction
                assertTrue(c.getKVClient().txn().If(new Cmp(k, Cmp.Op.EQUAL, CmpTarget.modRevision(0)))
                        .Then(Op.put(k, ByteSequence.from(old.seal(value, k.getBytes())), PutOption.DEFAULT)).commit()
                        .get(30, TimeUnit.SECONDS).isSucceeded());
            }
        }

        Result status = cli("status");
        System.out.println("status through kine's unix socket:\n" + status.all());
        ok(status);
        assertTrue(status.out().contains("Read from kine " + endpoint), status.out());
        for (String step : List.of("prepare", "sync", "rotate", "sync")) {
            ok(cli(step));
        }
        Result pass = cli("reencrypt");
        System.out.println("reencrypt through kine's unix socket:\n" + pass.all());
        ok(pass);
        ok(cli("sync")); // the old key retired
        Result verify = cli("verify");
        System.out.println("verify through kine's unix socket:\n" + verify.all());
        ok(verify);

        ProviderChain now = chain();
        String prefix = new String(now.writer().prefix(), StandardCharsets.UTF_8);
        assertFalse(prefix.equals(new String(old.prefix(), StandardCharsets.UTF_8)), prefix);
        try (UnixSocketBridge bridge = UnixSocketBridge.open(endpoint); Client c = client(bridge)) {
            List<KeyValue> stored = c.getKVClient().get(bytes("/registry/secrets/"), GetOption.builder()
                    .isPrefix(true).build()).get(30, TimeUnit.SECONDS).getKvs();
            assertEquals(300, stored.size());
            for (KeyValue kv : stored) {
                String key = kv.getKey().toString(StandardCharsets.UTF_8);
                assertTrue(kv.getValue().toString(StandardCharsets.ISO_8859_1).startsWith(prefix), key);
                assertArrayEquals(plain.get(key), now.open(kv.getValue().getBytes(), kv.getKey().getBytes())
                        .plaintext(), key);
            }
        }
        assertTrue(printed.stream().noneMatch(p -> p.contains("127.0.0.1")), "the bridge's port was shown: " + printed);
    }

    @Test
    void anotherProcessGetsNothingThroughTheBridgeWhileThisProcessesJetcdWorks() throws Exception {
        assumeTrue(UnixSocketBridgeTest.python3(), "python3 is needed to connect from another process");
        try (UnixSocketBridge bridge = UnixSocketBridge.open(endpoint); Client c = client(bridge)) {
            c.getKVClient().put(bytes("/bridge-test/own"), bytes("written")).get(10, TimeUnit.SECONDS);
            String foreign = UnixSocketBridgeTest.foreignClient(bridge.target().getPort());
            System.out.println("another process connecting to the bridge: " + foreign);
            assertTrue(foreign.matches("(closed|reset) 0"), foreign);
            assertEquals(1, bridge.refused());
            assertEquals("written", c.getKVClient().get(bytes("/bridge-test/own")).get(10, TimeUnit.SECONDS).getKvs()
                    .get(0).getValue().toString(StandardCharsets.UTF_8));
            assertEquals(1, bridge.refused(), "jetcd's own connections are all bridged");
        }
    }

    @Test
    void aRelativeSocketAndWhatAnOperatorIsToldOfAWrongOne() throws Exception {
        String relative = "unix://" + Path.of("").toAbsolutePath().relativize(socket);
        ok(cli("enable"));
        Result status = cli(List.of("status"), relative);
        ok(status);
        // made absolute where it is given: the data dir remembers it, and a unit runs elsewhere
        assertTrue(status.out().contains("Read from kine unix://" + socket.toAbsolutePath().normalize() + " "),
                status.out());

        String missing = "unix://" + tmp.resolve("no.sock");
        assertEquals("Error: no kine socket at " + missing + ": is k3s running on this server? the default is "
                + DEFAULT_SOCKET + "\n", cli(List.of("status"), missing).err());
        assertEquals("Error: --endpoints " + endpoint + " is kine's unix socket, which is plain (no TLS), but TLS files "
                + "were given (--cacert/--cert/--key): drop the TLS files\n",
                cli(List.of("status", "--cacert", tmp.resolve("ca.crt").toString()), endpoint).err());
        Result mixed = cli(List.of("status"), endpoint + ",http://10.0.0.11:2379");
        assertEquals(1, mixed.exitCode());
        assertEquals("Error: --endpoints gives the unix socket " + endpoint + " with other endpoints: a unix socket is "
                + "the one kine of this server, give it alone\n", mixed.err());
        Result tls = cli(List.of("status"), "unixs://" + socket);
        assertEquals(2, tls.exitCode(), tls.all());
        assertTrue(tls.err().contains("kine's unix socket is plain, without TLS: write it as unix://"), tls.err());
        assertTrue(printed.stream().noneMatch(p -> p.contains("127.0.0.1")), "the bridge's port was shown: " + printed);
    }

    // ---- helpers ----

    static Client client(UnixSocketBridge bridge) {
        return Client.builder().endpoints(bridge.target()).connectTimeout(Duration.ofSeconds(5)).build();
    }

    static ByteSequence bytes(String text) {
        return ByteSequence.from(text, StandardCharsets.UTF_8);
    }

    record Result(int exitCode, String out, String err) {
        String all() {
            return out + err;
        }
    }

    static void ok(Result r) {
        assertEquals(0, r.exitCode(), r.all());
    }

    Result cli(String command) throws IOException {
        return cli(List.of(command), endpoint);
    }

    /** The command line as an operator types it on a k3s server, with {@code --endpoints unix://…}. */
    Result cli(List<String> command, String endpoints) throws IOException {
        Path token = tmp.resolve("token");
        if (!Files.exists(token)) {
            Files.writeString(token, "token-of-this-test");
            Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
        }
        List<String> args = new ArrayList<>(command);
        args.addAll(List.of("-d", tmp.resolve("node-1").toString(), "--node-name", "node-1", "--endpoints", endpoints,
                "--token-file", token.toString(), "--state-prefix", "/se-" + tmp.getFileName() + "/"));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true));
        Result r = new Result(code, out.toString(), err.toString());
        printed.add(r.all());
        return r;
    }

    ProviderChain chain() throws Exception {
        return ProviderChain.of(ConfigFiles.read(tmp.resolve("node-1").resolve("encryption-config.json"))
                .secretsRule().orElseThrow().providers());
    }
}
