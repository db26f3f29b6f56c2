package dev.secretsencrypt.apiserver;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class ApiserverIdentityTest {

    @Test
    void theRecordedKubeApiserverOnHostVmLabelsItsMetricsWithTheHashOfTheIdentityDerivedFromVm() throws Exception {
        // testdata's page was served by a real kube-apiserver v1.37.2 running on the host "vm"
        String page = Files.readString(Path.of("testdata", "apiserver-metrics",
                "kube-apiserver-v1.37.2-after-a-failed-reload.txt"));
        ApiserverIdentity vm = ApiserverIdentity.ofHostname("vm");
        assertEquals("apiserver-wlv32tlttr4jl3gtroqexyxapa", vm.leaseName());
        assertEquals(vm.idHash(), LastConfigInfo.single(page).orElseThrow().apiserverIdHash());
    }

    @Test
    void matchesAnIndependentDerivationWithPythonsHashlibAndBase64() {
        // /usr/bin/python3: struct.pack(">H",len(h)) + h + struct.pack(">H",14) + b"kube-apiserver", sha256, [:16],
        // base64.b32encode, strip "=", lower
        assertEquals("apiserver-lgabes5ywnaqeagh5dny4zlzs4", ApiserverIdentity.ofHostname("node-1").leaseName());
        assertEquals("sha256:301f0ab033485d02da8c424142b92d830c6cb0fe2a367f125571d58c8d83307e",
                ApiserverIdentity.ofHostname("node-1").idHash());
        assertEquals("apiserver-svqenxykuclzcsv4a27piohgpu",
                ApiserverIdentity.ofHostname("control-plane-01.example.com").leaseName());
    }

    @Test
    void onlyLeaseNamesOfTheShapeKubeApiserverMakesAreIdentities() {
        assertEquals(Optional.of(new ApiserverIdentity("apiserver-lgabes5ywnaqeagh5dny4zlzs4")),
                ApiserverIdentity.ofLeaseName("apiserver-lgabes5ywnaqeagh5dny4zlzs4"));
        assertTrue(ApiserverIdentity.ofLeaseName("kube-controller-manager").isEmpty());
        assertTrue(ApiserverIdentity.ofLeaseName("apiserver-").isEmpty());
    }

    @Test
    void aLabelIsComparedOnItsHexWhateverTheCase() {
        ApiserverIdentity id = ApiserverIdentity.ofHostname("node-1");
        assertTrue(id.hashedAs(id.idHash().toUpperCase().replace("SHA256:", "sha256:")));
        assertFalse(id.hashedAs(ApiserverIdentity.ofHostname("node-2").idHash()));
    }
}
