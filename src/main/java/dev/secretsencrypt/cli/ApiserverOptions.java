package dev.secretsencrypt.cli;

import dev.secretsencrypt.apiserver.ApiserverConfigProbe;
import dev.secretsencrypt.apiserver.ApiserverEndpoint;
import dev.secretsencrypt.apiserver.ApiserverIdentity;
import dev.secretsencrypt.apiserver.HttpApiserverProbe;
import dev.secretsencrypt.failure.CommandRefused;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Optional;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Option;
import picocli.CommandLine.TypeConversionException;

/**
 * Where this server's kube-apiserver answers, for a command that asks it what it loaded ({@code @Mixin}). Options only:
 * without {@code --apiserver-url} there is no endpoint, and the caller reports the file instead.
 */
public final class ApiserverOptions {
    @Option(names = "--apiserver-url", paramLabel = "URL", converter = Url.class,
            description = "This server's kube-apiserver, asked on its /metrics what encryption config it loaded, e.g. "
                    + "https://127.0.0.1:6443. Absent: the agent reports nothing, and this server's report stays the one sync "
                    + "made when kube-apiserver started (run sync at each start; the sync drop-in does)")
    URI url;

    @Option(names = "--apiserver-cacert", paramLabel = "FILE",
            description = "CA certificate that signed kube-apiserver's serving certificate (PEM), e.g. "
                    + "/etc/kubernetes/pki/ca.crt. Default: the system's trusted CAs")
    Path cacert;

    @Option(names = "--apiserver-token-file", paramLabel = "FILE",
            description = "File holding a bearer token allowed to GET /metrics (ClusterRole system:monitoring); read at "
                    + "each request, so a rotated token is picked up")
    Path tokenFile;

    @Option(names = "--apiserver-cert", paramLabel = "FILE",
            description = "Client certificate for kube-apiserver (PEM), instead of or with a token")
    Path cert;

    @Option(names = "--apiserver-key", paramLabel = "FILE",
            description = "The key of --apiserver-cert (PEM: PKCS#8, RSA PKCS#1 or EC SEC1)")
    Path key;

    /** The endpoint these options name; empty without --apiserver-url. */
    public Optional<ApiserverEndpoint> endpoint() {
        if (url == null) {
            if (cacert != null || tokenFile != null || cert != null || key != null) {
                throw new CommandRefused("--apiserver-cacert, --apiserver-token-file, --apiserver-cert and --apiserver-key "
                        + "need --apiserver-url: give kube-apiserver's address, e.g. https://127.0.0.1:6443");
            }
            return Optional.empty();
        }
        return Optional.of(new ApiserverEndpoint(url, Optional.ofNullable(cacert), Optional.ofNullable(tokenFile),
                Optional.ofNullable(cert), Optional.ofNullable(key)));
    }

    /**
     * The probe of that endpoint, its TLS files read now (a wrong one is refused before anything runs); only answers
     * from {@code expected}, this server's own kube-apiserver, count.
     */
    public Optional<ApiserverConfigProbe> probe(ApiserverIdentity expected) {
        return endpoint().map(e -> new HttpApiserverProbe(e, expected));
    }

    /** {@code --apiserver-url}: an http(s) URL with a host, checked while parsing so a typo is a usage error. */
    static final class Url implements ITypeConverter<URI> {
        @Override
        public URI convert(String value) {
            String text = value.trim();
            String example = " (e.g. https://127.0.0.1:6443)";
            try {
                URI uri = new URI(text);
                String scheme = String.valueOf(uri.getScheme()).toLowerCase(java.util.Locale.ROOT);
                if ((scheme.equals("https") || scheme.equals("http")) && uri.getHost() != null) {
                    return uri;
                }
            } catch (URISyntaxException e) {
                // said below
            }
            throw new TypeConversionException("'" + text + "' is not an https:// URL with a host" + example);
        }
    }
}
