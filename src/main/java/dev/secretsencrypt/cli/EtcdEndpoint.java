package dev.secretsencrypt.cli;

import java.net.URI;
import java.net.URISyntaxException;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * One {@code --endpoints} item as etcdctl accepts it: {@code https://host:port}, {@code http://host:port} or a bare
 * {@code host:port} (whose scheme follows the TLS files), or kine's {@code unix:///path/kine.sock}. Checked while
 * parsing, so a typo is a usage error.
 */
final class EtcdEndpoint implements ITypeConverter<String> {
    static final String DEFAULT_KINE_SOCKET = "unix:///var/lib/rancher/k3s/server/kine.sock";

    @Override
    public String convert(String value) {
        String text = value.trim();
        String example = " (e.g. https://10.0.0.11:2379 or 10.0.0.11:2379)";
        if (text.isEmpty()) {
            throw new TypeConversionException("an empty etcd endpoint: give host:port or a URL" + example);
        }
        String lower = text.toLowerCase(java.util.Locale.ROOT);
        if (lower.startsWith("unix:") || lower.startsWith("unixs:")) {
            return unixSocket(text, lower);
        }
        boolean bare = !text.contains("://");
        if (bare && text.startsWith("/")) {
            throw new TypeConversionException("'" + text + "' is a path: write kine's socket as unix://" + text
                    + example);
        }
        URI uri;
        try {
            uri = new URI(bare ? "http://" + text : text);
        } catch (URISyntaxException e) {
            throw new TypeConversionException("'" + text + "' is not an etcd URL" + example);
        }
        String scheme = String.valueOf(uri.getScheme()).toLowerCase(java.util.Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new TypeConversionException("'" + text + "': etcd endpoints are http:// or https:// URLs, or kine's "
                    + "unix:// socket" + example);
        }
        if (uri.getHost() == null) {
            throw new TypeConversionException("'" + text + "' names no host" + example);
        }
        if (uri.getPort() < 0) {
            throw new TypeConversionException("'" + text + "' names no port; etcd's is usually 2379" + example);
        }
        if (uri.getRawUserInfo() != null || uri.getRawQuery() != null || uri.getRawFragment() != null
                || !(uri.getRawPath() == null || uri.getRawPath().isEmpty() || uri.getRawPath().equals("/"))) {
            throw new TypeConversionException("'" + text + "' has more than a scheme, host and port" + example);
        }
        return text;
    }

    /**
     * kine's unix socket as etcd clients write it: {@code unix:///abs/path}, or {@code unix://path} under the working
     * directory, made absolute here: the data dir remembers its endpoints, and a unit runs in another directory.
     * Plain only: kine serves no TLS there.
     */
    private static String unixSocket(String text, String lower) {
        String example = " (e.g. " + DEFAULT_KINE_SOCKET + ")";
        if (lower.startsWith("unixs:")) {
            throw new TypeConversionException("'" + text + "': kine's unix socket is plain, without TLS: write it as "
                    + "unix://" + example);
        }
        if (!lower.startsWith("unix://")) {
            throw new TypeConversionException("'" + text + "': write a unix socket as unix:///path" + example);
        }
        String path = text.substring("unix://".length());
        if (path.isEmpty() || path.equals("/")) {
            throw new TypeConversionException("'" + text + "' names no socket" + example);
        }
        if (path.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
            throw new TypeConversionException("'" + text.replaceAll("\\p{Cntrl}", "?") + "' has a control character"
                    + example);
        }
        return "unix://" + java.nio.file.Path.of("").toAbsolutePath().resolve(path).normalize();
    }

    /** {@code --etcd-timeout}: whole seconds, at least one. */
    static final class Seconds implements ITypeConverter<Integer> {
        @Override
        public Integer convert(String value) {
            try {
                int seconds = Integer.parseInt(value.trim());
                if (seconds >= 1) {
                    return seconds;
                }
            } catch (NumberFormatException e) {
                // said below, in the operator's words
            }
            throw new TypeConversionException("'" + value + "' is not a number of seconds of at least 1 (e.g. 5)");
        }
    }
}
