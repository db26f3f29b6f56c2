package dev.secretsencrypt.reencrypt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.config.EncryptionConfig;
import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.config.IdentityProvider;
import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.config.ProviderType;
import dev.secretsencrypt.config.ResourceRule;
import dev.secretsencrypt.envelope.Envelope;
import dev.secretsencrypt.store.EtcdPrefix;
import java.util.List;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class TargetsTest {

    @Test
    void eachResourceMapsToTheEtcdPrefixKubeApiserverStoresItUnder() {
        EncryptionConfig config = RotationKeys.config(List.of("secrets", "configmaps", "widgets.example.com",
                "deployments.apps", "services", "ingresses.networking.k8s.io", "apiservices.apiregistration.k8s.io"));

        List<String> prefixes = Targets.resolve(config, EtcdPrefix.of("/registry/"), List.of(), List.of()).stream()
                .map(Target::etcdPrefix).toList();

        assertEquals(List.of("/registry/secrets/", "/registry/configmaps/", "/registry/example.com/widgets/",
                "/registry/deployments/", "/registry/services/specs/", "/registry/ingress/",
                "/registry/apiregistration.k8s.io/apiservices/"), prefixes);
    }

    @Test
    void theFirstRuleNamingAResourceGovernsItAndSharedPrefixesArePagedOnce() {
        ResourceRule first = new ResourceRule(List.of("secrets", "deployments.apps"),
                List.of(new KeyedProvider(ProviderType.AESGCM, List.of(RotationKeys.OLD_GCM))));
        ResourceRule second = new ResourceRule(List.of("secrets", "deployments.extensions", "configmaps"),
                List.of(new IdentityProvider()));
        EncryptionConfig config = EncryptionConfig.of(List.of(first, second));

        List<Target> targets = Targets.resolve(config, EtcdPrefix.of("/registry"), List.of(), List.of());

        assertEquals(List.of("secrets", "deployments.apps", "configmaps"),
                targets.stream().map(Target::resource).toList());
        assertEquals("aesgcm/aesgcmkey", targets.get(0).chain().writer().description());
        assertEquals("identity", targets.get(2).chain().writer().description());
    }

    @Test
    void aWildcardIsRefusedUnlessTheResourcesAreNamed() {
        ResourceRule all = new ResourceRule(List.of("*.*"), RotationKeys.config(List.of("x")).resources().get(0)
                .providers());
        EncryptionConfig config = EncryptionConfig.of(List.of(
                new ResourceRule(List.of("secrets"), List.of(new IdentityProvider())), all));

        CommandRefused refused = assertThrows(CommandRefused.class,
                () -> Targets.resolve(config, EtcdPrefix.of("/registry"), List.of(), List.of()));
        assertTrue(refused.getMessage().contains("--resources"), refused.getMessage());

        List<Target> named = Targets.resolve(config, EtcdPrefix.of("/registry"), List.of("secrets", "configmaps",
                "widgets.example.com"), List.of());
        assertEquals(List.of("/registry/secrets/", "/registry/configmaps/", "/registry/example.com/widgets/"),
                named.stream().map(Target::etcdPrefix).toList());
        assertEquals("identity", named.get(0).chain().writer().description(), "the exact name wins over *.*");
        assertEquals(RotationKeys.ACTIVE_CBC.description(), named.get(1).chain().writer().description());
        assertThrows(CommandRefused.class,
                () -> Targets.resolve(config, EtcdPrefix.of("/registry"), List.of("*.*"), List.of()));
    }

    @Test
    void aNamedResourceNoRuleCoversIsRefused() {
        EncryptionConfig config = RotationKeys.config(List.of("secrets"));

        CommandRefused refused = assertThrows(CommandRefused.class,
                () -> Targets.resolve(config, EtcdPrefix.of("/registry"), List.of("configmaps"), List.of()));
        assertTrue(refused.getMessage().contains("configmaps"), refused.getMessage());
    }

    @Test
    void retiredKeysAreAppendedAfterEveryConfiguredKeyAndNeverWrite() {
        EncryptionConfig config = RotationKeys.config(List.of("secrets"));
        ReadOnlyKey retired = new ReadOnlyKey(ProviderType.AESCBC, RotationKeys.RETIRED);

        Target target = Targets.resolve(config, EtcdPrefix.of("/registry"), List.of(), List.of(retired)).get(0);

        List<Envelope> order = target.chain().readOrder();
        assertEquals("aescbc/aescbckey-2025-01-01T00:00:00Z", order.get(order.size() - 1).description());
        assertEquals(RotationKeys.ACTIVE_CBC.description(), target.chain().writer().description());
        assertSame(target.chain(), target.chain());
    }

    @Test
    void prefixesEndInASlashSoSecretsNeverTakesInSecretsfoo() {
        Target secrets = Targets.resolve(RotationKeys.config(List.of("secrets")), EtcdPrefix.of("/registry"), List.of(), List.of())
                .get(0);

        assertEquals("/registry/secrets/", secrets.etcdPrefix());
        assertTrue(KeyRange.endOf(secrets.etcdPrefix()).toString(java.nio.charset.StandardCharsets.UTF_8)
                .compareTo("/registry/secretsfoo/") < 0);
    }
}
