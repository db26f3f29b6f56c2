package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.apiserver.ApiserverEndpoint;
import dev.secretsencrypt.failure.CommandRefused;
import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Tag("unit")
class ApiserverOptionsTest {
    @Command(name = "probe-test")
    static final class WithApiserver {
        @Mixin
        ApiserverOptions apiserver;
    }

    static ApiserverOptions parse(String... args) {
        WithApiserver command = new WithApiserver();
        new CommandLine(command).parseArgs(args);
        return command.apiserver;
    }

    @Test
    void theOptionsNameOneEndpointWithItsFiles() {
        ApiserverOptions o = parse("--apiserver-url", "https://127.0.0.1:6443", "--apiserver-cacert", "/etc/kubernetes/pki/ca.crt",
                "--apiserver-token-file", "/etc/secrets-encrypt/apiserver-token", "--apiserver-cert", "/c.crt",
                "--apiserver-key", "/c.key");
        assertEquals(Optional.of(new ApiserverEndpoint(URI.create("https://127.0.0.1:6443"),
                Optional.of(Path.of("/etc/kubernetes/pki/ca.crt")), Optional.of(Path.of("/etc/secrets-encrypt/apiserver-token")),
                Optional.of(Path.of("/c.crt")), Optional.of(Path.of("/c.key")))), o.endpoint());
        assertEquals(URI.create("https://127.0.0.1:6443/metrics"), o.endpoint().orElseThrow().metricsUrl());
    }

    @Test
    void withoutAUrlThereIsNoEndpointAndNoProbe() {
        assertEquals(Optional.empty(), parse().endpoint());
        assertEquals(Optional.empty(), parse().probe(dev.secretsencrypt.apiserver.ApiserverIdentity.ofHostname("h")));
    }

    @Test
    void mistakesAreSaidInTheOperatorsWords() {
        CommandLine.ParameterException notUrl = assertThrows(CommandLine.ParameterException.class,
                () -> parse("--apiserver-url", "127.0.0.1:6443"));
        assertTrue(notUrl.getMessage().contains("is not an https:// URL with a host"), notUrl.getMessage());
        CommandRefused halfPair = assertThrows(CommandRefused.class,
                () -> parse("--apiserver-url", "https://127.0.0.1:6443", "--apiserver-cert", "/c.crt").endpoint());
        assertTrue(halfPair.getMessage().contains("--apiserver-cert and --apiserver-key go together"), halfPair.getMessage());
        CommandRefused noUrl = assertThrows(CommandRefused.class, () -> parse("--apiserver-token-file", "/t").endpoint());
        assertTrue(noUrl.getMessage().contains("need --apiserver-url"), noUrl.getMessage());
        CommandRefused plain = assertThrows(CommandRefused.class,
                () -> parse("--apiserver-url", "http://127.0.0.1:8080", "--apiserver-token-file", "/t").endpoint());
        assertTrue(plain.getMessage().contains("write it as https://"), plain.getMessage());
    }
}
