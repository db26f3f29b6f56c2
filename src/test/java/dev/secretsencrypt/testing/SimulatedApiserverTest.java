package dev.secretsencrypt.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class SimulatedApiserverTest {
    @Test
    void floatsAreWrittenAsPrometheusGoClientWritesThem() {
        // each as found on kube-apiserver v1.37.2's page (testdata/apiserver-metrics) or as Go's 'g', -1 gives it
        assertEquals("1.7960343335886095e+09", SimulatedApiserver.goFloat(1.7960343335886095e+09));
        assertEquals("1.79603434547e+09", SimulatedApiserver.goFloat(1.79603434547e+09));
        assertEquals("1.9837410853386e+06", SimulatedApiserver.goFloat(1.9837410853386e+06));
        assertEquals("1e+06", SimulatedApiserver.goFloat(1e6));
        assertEquals("144320", SimulatedApiserver.goFloat(144320));
        assertEquals("0.5", SimulatedApiserver.goFloat(0.5));
        assertEquals("0.0001", SimulatedApiserver.goFloat(0.0001));
        assertEquals("1e-05", SimulatedApiserver.goFloat(0.00001));
        assertEquals("-2.5", SimulatedApiserver.goFloat(-2.5));
        assertEquals("+Inf", SimulatedApiserver.goFloat(Double.POSITIVE_INFINITY));
    }
}
