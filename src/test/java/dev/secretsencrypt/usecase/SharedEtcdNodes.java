package dev.secretsencrypt.usecase;

import dev.secretsencrypt.apiserver.ApiserverIdentity;
import dev.secretsencrypt.store.EtcdPrefix;
import dev.secretsencrypt.store.EtcdSettings;
import dev.secretsencrypt.store.StatePrefix;
import dev.secretsencrypt.testing.EtcdCluster;
import io.etcd.jetcd.ByteSequence;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * Servers of one cluster for use-case tests, in this JVM, on the etcd member shared per JVM: each test gets its own
 * state prefix and its own kube-apiserver data prefix, so tests never see each other's keys.
 */
final class SharedEtcdNodes {
    private final Path dir;
    private final String run = UUID.randomUUID().toString();
    final String statePrefix = "/use-case-" + run + "/";
    final String etcdPrefix = "/reg-" + run; // kube-apiserver's data: rotate looks for the apiservers that run under it

    SharedEtcdNodes(Path dir) throws Exception {
        this.dir = dir;
        Path token = dir.resolve("token");
        Files.writeString(token, "K10use-case-token");
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-------"));
        EtcdCluster.shared().client().getKVClient().put(ByteSequence.from(etcdPrefix + "/namespaces/default",
                StandardCharsets.UTF_8), ByteSequence.from("k8s\0namespace", StandardCharsets.ISO_8859_1))
                .get(10, TimeUnit.SECONDS);
    }

    /** A session of {@code node}, as one command there opens it. */
    Session open(String node, Clock clock) {
        EtcdSettings etcd = new EtcdSettings(EtcdCluster.shared().endpoints(), Optional.empty(), Optional.empty(),
                Optional.empty(), new EtcdSettings.TokenSource(Optional.empty(), false, Optional.of(dir.resolve("token")),
                dir.resolve(node).resolve("token")), StatePrefix.of(statePrefix), Duration.ofSeconds(5));
        return Session.open(new NodeSettings(dir.resolve(node), node, Optional.of(etcd), EtcdPrefix.of(etcdPrefix),
                ApiserverIdentity.ofHostname(node)), clock, new SecureRandom(), w -> { });
    }

    Session open(String node) {
        return open(node, Clock.systemUTC());
    }

    /** sync on {@code node}, as its kube-apiserver restart runs it. */
    Reporting.SyncResult sync(String node) {
        try (Session s = open(node)) {
            return s.reporting().sync(false);
        }
    }

    Path configFile(String node) {
        return dir.resolve(node).resolve("encryption-config.json");
    }
}
