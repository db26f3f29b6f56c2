package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

@Tag("unit")
class AgentOptionsTest {
    static AgentCommand parse(String... args) {
        AgentCommand agent = new AgentCommand();
        new CommandLine(agent).parseArgs(args);
        return agent;
    }

    @Test
    void theMetricsAddressIsAHostAndPortOrOff() {
        assertEquals(new InetSocketAddress("127.0.0.1", 9623), parse().metricsAddress);
        assertEquals(new InetSocketAddress("127.0.0.1", 0), parse("--metrics-address", "127.0.0.1:0").metricsAddress);
        assertEquals(new InetSocketAddress("::1", 9000), parse("--metrics-address", "[::1]:9000").metricsAddress);
        assertNull(parse("--metrics-address", "off").metricsAddress);
    }

    @Test
    void aMetricsAddressWithoutAPortIsRefusedWithAnExample() {
        CommandLine.ParameterException wrong = assertThrows(CommandLine.ParameterException.class,
                () -> parse("--metrics-address", "localhost"));
        assertTrue(wrong.getMessage().contains("'localhost' is not HOST:PORT: give e.g. 127.0.0.1:9623, or off"),
                wrong.getMessage());
    }
}
