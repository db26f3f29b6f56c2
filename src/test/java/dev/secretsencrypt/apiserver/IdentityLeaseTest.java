package dev.secretsencrypt.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.testing.StoredLease;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class IdentityLeaseTest {
    static final Path REAL = Path.of("testdata", "apiserver-leases", "kube-apiserver-v1.37.2-on-node-1.bin");

    @Test
    void aRealKubeApiserversLeaseNamesItsIdentityItsHostAndWhenItRenewed() throws Exception {
        IdentityLease lease = IdentityLease.read(Files.readAllBytes(REAL)).orElseThrow();
        assertEquals(ApiserverIdentity.ofHostname("node-1"), lease.identity());
        assertEquals(Optional.of("node-1"), lease.hostname());
        Instant renewed = lease.renewedAt().orElseThrow();
        // read 25 s after that apiserver started, on 2026-12-03 (testdata/apiserver-leases/README.md)
        assertTrue(renewed.isAfter(Instant.parse("2026-12-03T08:25:00Z"))
                && renewed.isBefore(Instant.parse("2026-12-03T08:40:00Z")), renewed.toString());
    }

    @Test
    void theTestsOwnEncodingReadsAsTheRealOneDoes() {
        Instant at = Instant.parse("2026-12-03T10:00:00.123456Z");
        String name = ApiserverIdentity.ofHostname("node-2").leaseName();
        assertEquals(Optional.of(new IdentityLease(new ApiserverIdentity(name), Optional.of("node-2"), Optional.of(at))),
                IdentityLease.read(StoredLease.of(name, "node-2", at)));
    }

    @Test
    void jsonAsOlderOrConfiguredApiserversStoreItReadsTooAndAnAggregatedApiserversLeaseIsNotOne() {
        String name = ApiserverIdentity.ofHostname("node-3").leaseName();
        String json = "{\"kind\":\"Lease\",\"apiVersion\":\"coordination.k8s.io/v1\",\"metadata\":{\"name\":\"" + name
                + "\",\"namespace\":\"kube-system\",\"labels\":{\"apiserver.kubernetes.io/identity\":\"kube-apiserver\","
                + "\"kubernetes.io/hostname\":\"node-3\"}},\"spec\":{\"renewTime\":\"2026-12-03T10:00:00.000000Z\"}}";
        assertEquals("node-3", IdentityLease.read(json.getBytes(StandardCharsets.UTF_8)).orElseThrow().host());
        assertInstanceOf(IdentityLease.Reading.OtherComponent.class, IdentityLease.reading(StoredLease.of(name,
                Map.of("apiserver.kubernetes.io/identity", "sample-apiserver"), Instant.now())));
    }

    @Test
    void bytesThatAreNoLeaseAreUnreadableNotAbsent() {
        assertInstanceOf(IdentityLease.Reading.Unreadable.class, IdentityLease.reading("k8s:enc:aescbc:v1:k:xyz"
                .getBytes(StandardCharsets.UTF_8)));
        assertInstanceOf(IdentityLease.Reading.Unreadable.class, IdentityLease.reading(new byte[] {'k', '8', 's', 0, 1}));
    }
}
