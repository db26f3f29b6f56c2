package dev.secretsencrypt.apiserver;

import dev.secretsencrypt.failure.CommandRefused;
import java.net.URI;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;

/**
 * Where this server's kube-apiserver answers and how to be let in: its URL, the CA that signed its serving certificate
 * (else the JVM's trusted CAs), and a bearer token file and/or a client certificate. Paths only: the token is read
 * from its file at each probe, so a rotated token is picked up, and it never sits in this value.
 */
public record ApiserverEndpoint(URI url, Optional<Path> caCert, Optional<Path> tokenFile, Optional<Path> clientCert,
                                Optional<Path> clientKey) {

    public ApiserverEndpoint {
        String scheme = String.valueOf(url.getScheme()).toLowerCase(Locale.ROOT);
        if ((!scheme.equals("https") && !scheme.equals("http")) || url.getHost() == null) {
            throw new CommandRefused("--apiserver-url " + url + " is not an http(s) URL: give kube-apiserver's address, "
                    + "e.g. https://127.0.0.1:6443");
        }
        if (url.getRawUserInfo() != null || url.getRawQuery() != null || url.getRawFragment() != null) {
            throw new CommandRefused("--apiserver-url takes a scheme, host, port and optional path only, e.g. "
                    + "https://127.0.0.1:6443: give a token with --apiserver-token-file, not in the URL");
        }
        if (clientCert.isPresent() != clientKey.isPresent()) {
            throw new CommandRefused("--apiserver-cert and --apiserver-key go together: pass both, or neither");
        }
        if (scheme.equals("http") && (caCert.isPresent() || clientCert.isPresent() || tokenFile.isPresent())) {
            throw new CommandRefused("--apiserver-url " + url + " is plaintext http, but TLS files or a token were given: "
                    + "write it as https://, so the token and certificates travel encrypted");
        }
    }

    /** The endpoint's {@code /metrics}, under any path prefix the URL has (a proxy in front of the apiserver). */
    public URI metricsUrl() {
        String path = url.getRawPath() == null ? "" : url.getRawPath();
        return URI.create(url.getScheme() + "://" + url.getRawAuthority() + (path.endsWith("/") ? path : path + "/")
                + "metrics");
    }
}
