package dev.secretsencrypt.cli;

import dev.secretsencrypt.certs.CertificateSource;
import dev.secretsencrypt.certs.Location;
import dev.secretsencrypt.certs.SecretCertificates;
import dev.secretsencrypt.certs.StoredSecret;
import dev.secretsencrypt.config.ConfigFiles;
import dev.secretsencrypt.config.EncryptionConfig;
import dev.secretsencrypt.config.IdentityProvider;
import dev.secretsencrypt.config.InvalidConfig;
import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.config.Provider;
import dev.secretsencrypt.config.ResourceRule;
import dev.secretsencrypt.envelope.ProviderChain;
import dev.secretsencrypt.envelope.UnreadableValue;
import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.failure.StateUnavailable;
import dev.secretsencrypt.store.ClusterState;
import dev.secretsencrypt.store.EtcdRetry;
import dev.secretsencrypt.store.LocalState;
import dev.secretsencrypt.store.ReencryptionStore;
import dev.secretsencrypt.store.RetiredKey;
import dev.secretsencrypt.store.Snapshot;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * certs in the cluster: every Secret under {@code <etcd-prefix>/secrets/}, opened with the configured and retired
 * keys (as verify does) and parsed from kube-apiserver's storage form. Reads only.
 */
final class StoredSecretCertificates {
    // small pages: a Secret can be 1 MiB, and a page must fit in one gRPC message
    private static final int PAGE = 50;

    /** What the read found: certificate sources, the Secrets no key opens, what could not be parsed (warnings). */
    record Read(List<CertificateSource> sources, long secrets, List<String> unreadable, List<String> skipped) {
    }

    private StoredSecretCertificates() {
    }

    static Read read(ClusterState state, NodeOptions options) {
        if (!(state instanceof ReencryptionStore store)) {
            throw new IllegalStateException("certs reads Secrets only with --endpoints");
        }
        ProviderChain chain = ProviderChain.of(readers(state, options.dataDir));
        String prefix = "/" + options.etcdPrefix.replaceAll("^/+|/+$", "") + "/secrets/";
        Duration timeout = Duration.ofSeconds(Math.max(5, options.etcdTimeoutSeconds));
        List<CertificateSource> sources = new ArrayList<>();
        List<String> unreadable = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        long secrets = eachValue(store.datastore(), prefix, timeout, kv -> {
            String etcdKey = kv.getKey().toString(StandardCharsets.UTF_8);
            byte[] plaintext;
            try {
                plaintext = chain.open(kv.getValue().getBytes(), kv.getKey().getBytes()).plaintext();
            } catch (UnreadableValue e) {
                unreadable.add(e.etcdKey());
                return;
            }
            try {
                StoredSecret secret = named(StoredSecret.decode(plaintext), etcdKey.substring(prefix.length()));
                sources.addAll(SecretCertificates.of(secret));
                SecretCertificates.unparseable(secret).forEach(key -> skipped.add(new Location.InSecret(
                        secret.namespace(), secret.name(), key).where() + ": a PEM certificate block that cannot be parsed"));
            } catch (StoredSecret.NotASecret e) {
                skipped.add(Location.printable(etcdKey) + ": not a Secret in kube-apiserver's storage form ("
                        + e.getMessage() + ")");
            } finally {
                Arrays.fill(plaintext, (byte) 0);
            }
        });
        return new Read(sources, secrets, unreadable, skipped);
    }

    /**
     * The Secrets rule's providers, then every retired key, then identity (a Secret written before encryption was
     * enabled is plaintext): read order as verify's, with nothing ever written.
     */
    private static List<Provider> readers(ClusterState state, Path dataDir) {
        Optional<Snapshot> snapshot = state.read();
        EncryptionConfig config = snapshot.map(s -> s.rotation().config()).or(() -> nodeFile(dataDir)).orElse(null);
        List<Provider> providers = new ArrayList<>();
        if (config != null) {
            config.secretsRule().map(ResourceRule::providers).ifPresent(providers::addAll);
        }
        for (RetiredKey retired : snapshot.map(Snapshot::retiredKeys).orElse(List.of())) {
            providers.add(new KeyedProvider(retired.type(), List.of(retired.key())));
        }
        if (providers.stream().noneMatch(p -> p instanceof IdentityProvider)) {
            providers.add(new IdentityProvider());
        }
        return providers;
    }

    private static Optional<EncryptionConfig> nodeFile(Path dataDir) {
        Path file = dataDir.resolve(LocalState.CONFIG_FILE);
        if (!Files.exists(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(ConfigFiles.read(file));
        } catch (InvalidConfig e) {
            throw new CommandRefused("cannot read the keys in " + file + ": " + e.getMessage());
        }
    }

    /** The name from the Secret itself; from its etcd key (namespace/name) when the stored object lacks it. */
    private static StoredSecret named(StoredSecret s, String namespaceAndName) {
        int slash = namespaceAndName.indexOf('/');
        String namespace = s.namespace().isEmpty() && slash > 0 ? namespaceAndName.substring(0, slash) : s.namespace();
        String name = s.name().isEmpty() ? namespaceAndName.substring(slash + 1) : s.name();
        return new StoredSecret(namespace, name, s.type(), s.data());
    }

    /** One page, retried as every etcd read of this tool is (EtcdRetry): a leader election does not end the report. */
    private static GetResponse readPage(KV kv, ByteSequence from, ByteSequence end, String prefix, Duration timeout) {
        GetOption page = GetOption.builder().withRange(end).withLimit(PAGE).withSortField(GetOption.SortTarget.KEY)
                .withSortOrder(GetOption.SortOrder.ASCEND).build();
        for (int attempt = 1; ; attempt++) {
            try {
                return kv.get(from, page).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CommandRefused("interrupted while reading " + prefix + " from etcd");
            } catch (ExecutionException | TimeoutException e) {
                Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
                if (!EtcdRetry.isTransient(cause) || attempt >= EtcdRetry.ATTEMPTS) {
                    throw new StateUnavailable("could not read " + prefix + " from etcd (" + attempt + " attempt(s), "
                            + "last: " + cause.getMessage() + "): check --endpoints and that etcd is healthy, then run "
                            + "certs again");
                }
                try {
                    Thread.sleep(EtcdRetry.delayBefore(attempt + 1).toMillis());
                } catch (InterruptedException stop) {
                    Thread.currentThread().interrupt();
                    throw new CommandRefused("interrupted while reading " + prefix + " from etcd");
                }
            }
        }
    }

    /** Hands every value under the prefix to {@code each}, a page at a time in key order; returns how many. */
    private static long eachValue(KV kv, String prefix, Duration timeout, Consumer<KeyValue> each) {
        byte[] p = prefix.getBytes(StandardCharsets.UTF_8);
        byte[] endBytes = p.clone();
        endBytes[endBytes.length - 1]++; // "/registry/secrets/" ends before "/registry/secrets0"
        ByteSequence end = ByteSequence.from(endBytes);
        ByteSequence from = ByteSequence.from(p);
        long count = 0;
        while (true) {
            GetResponse page = readPage(kv, from, end, prefix, timeout);
            page.getKvs().forEach(each);
            count += page.getKvs().size();
            if (!page.isMore() || page.getKvs().isEmpty()) {
                return count;
            }
            byte[] last = page.getKvs().get(page.getKvs().size() - 1).getKey().getBytes();
            from = ByteSequence.from(Arrays.copyOf(last, last.length + 1)); // the next key after it: append \0
        }
    }
}
