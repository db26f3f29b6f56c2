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

    /**
     * Refused unless the URL names this machine: the agent vouches for this server's own kube-apiserver, which another
     * host's address never is. (A load balancer on this machine passes here; the identity check catches it.)
     */
    public void requireThisMachine() {
        String host = url.getHost().replace("[", "").replace("]", "");
        try {
            for (java.net.InetAddress a : java.net.InetAddress.getAllByName(host)) {
                if (a.isLoopbackAddress() || a.isAnyLocalAddress() || java.net.NetworkInterface.getByInetAddress(a) != null) {
                    return;
                }
            }
        } catch (java.io.IOException e) {
            throw new CommandRefused("--apiserver-url names " + host + ", which does not resolve here (" + e.getMessage()
                    + "): give this server's own kube-apiserver, e.g. https://127.0.0.1:6443");
        }
        throw new CommandRefused("--apiserver-url names " + host + ", which is not an address of this machine: the "
                + "agent reports what this server's own kube-apiserver loaded, so give its local address (e.g. "
                + "https://127.0.0.1:6443), never a load balancer's or another server's");
    }

    /** The endpoint's {@code /metrics}, under any path prefix the URL has (a proxy in front of the apiserver). */
    public URI metricsUrl() {
        String path = url.getRawPath() == null ? "" : url.getRawPath();
        return URI.create(url.getScheme() + "://" + url.getRawAuthority() + (path.endsWith("/") ? path : path + "/")
                + "metrics");
    }
}
