package dev.secretsencrypt.usecase;

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
import dev.secretsencrypt.reencrypt.PassSettings;
import dev.secretsencrypt.reencrypt.StoredValues;
import dev.secretsencrypt.store.ClusterState;
import dev.secretsencrypt.store.EtcdPrefix;
import dev.secretsencrypt.rotation.RetiredKey;
import dev.secretsencrypt.store.Snapshot;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * certs in the cluster: every Secret under {@code <etcd-prefix>/secrets/}, opened with the configured and retired
 * keys (as verify does) and parsed from kube-apiserver's storage form. Reads only. Built by {@link Session}.
 */
public final class ClusterCertificates {
    /** What the read found: certificate sources, the Secrets no key opens, what could not be parsed (warnings). */
    public record Read(List<CertificateSource> sources, long secrets, List<String> unreadable, List<String> skipped) {
    }

    private final ClusterState state;
    private final StoredValues values;
    private final Path configFile;
    private final EtcdPrefix etcdPrefix;

    ClusterCertificates(ClusterState state, StoredValues values, Path configFile, EtcdPrefix etcdPrefix) {
        this.state = state;
        this.values = values;
        this.configFile = configFile;
        this.etcdPrefix = etcdPrefix;
    }

    public Read read() {
        ProviderChain chain = ProviderChain.of(readers());
        String prefix = etcdPrefix.under("secrets");
        List<CertificateSource> sources = new ArrayList<>();
        List<String> unreadable = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        long secrets = values.each(prefix, PassSettings.defaults(), stored -> {
            String etcdKey = new String(stored.etcdKey(), StandardCharsets.UTF_8);
            byte[] plaintext;
            try {
                plaintext = chain.open(stored.value(), stored.etcdKey()).plaintext();
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
    private List<Provider> readers() {
        Optional<Snapshot> snapshot = state.read();
        EncryptionConfig config = snapshot.map(s -> s.rotation().config()).or(this::nodeFile).orElse(null);
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

    private Optional<EncryptionConfig> nodeFile() {
        Path file = configFile;
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
}
