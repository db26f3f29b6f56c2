package dev.secretsencrypt.config;

/**
 * The part of Go's net/url.Parse that KMS endpoint validation depends on: the lower-cased scheme, or the
 * parse error kube-apiserver would print ({@code parse "<url>": <reason>}).
 */
record KmsEndpoint(String scheme, String parseError) {
    static KmsEndpoint parse(String rawUrl) {
        int hash = rawUrl.indexOf('#');
        String url = hash >= 0 ? rawUrl.substring(0, hash) : rawUrl;
        String problem = problem(url);
        if (problem == null && hash >= 0) {
            problem = badEscape(rawUrl.substring(hash + 1));
            if (problem != null) {
                return new KmsEndpoint("", "parse " + GoText.quote(rawUrl) + ": " + problem);
            }
        }
        if (problem != null) {
            return new KmsEndpoint("", "parse " + GoText.quote(url) + ": " + problem);
        }
        return new KmsEndpoint(scheme(url).toLowerCase(java.util.Locale.ROOT), null);
    }

    boolean valid() {
        return parseError == null;
    }

    private static String problem(String url) {
        for (int i = 0; i < url.length(); i++) {
            char c = url.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return "net/url: invalid control character in URL";
            }
        }
        if (url.equals("*")) {
            return null;
        }
        if (!url.isEmpty() && url.charAt(0) == ':') {
            return "missing protocol scheme";
        }
        String scheme = scheme(url);
        String rest = scheme.isEmpty() ? url : url.substring(scheme.length() + 1);
        int query = rest.indexOf('?');
        if (query >= 0) {
            rest = rest.substring(0, query);
        }
        if (!rest.startsWith("/")) {
            if (!scheme.isEmpty()) {
                return null; // opaque, like "unix:sock"
            }
            int slash = rest.indexOf('/');
            if ((slash >= 0 ? rest.substring(0, slash) : rest).contains(":")) {
                return "first path segment in URL cannot contain colon";
            }
        }
        if (rest.startsWith("//") && (!scheme.isEmpty() || !rest.startsWith("///"))) {
            String authority = rest.substring(2);
            int slash = authority.indexOf('/');
            String path = slash >= 0 ? authority.substring(slash) : "";
            authority = slash >= 0 ? authority.substring(0, slash) : authority;
            String hostProblem = hostProblem(authority.substring(authority.lastIndexOf('@') + 1));
            return hostProblem != null ? hostProblem : badEscape(path);
        }
        return badEscape(rest);
    }

    // A port must be digits: "invalid port \":x\" after host".
    private static String hostProblem(String host) {
        int colon = host.lastIndexOf(':');
        int bracket = host.lastIndexOf(']');
        if (host.startsWith("[") && bracket < 0) {
            return "missing ']' in host";
        }
        if (colon > bracket) {
            String port = host.substring(colon);
            for (int i = 1; i < port.length(); i++) {
                char c = port.charAt(i);
                if (c < '0' || c > '9') {
                    return "invalid port " + GoText.quote(port) + " after host";
                }
            }
        }
        return badEscape(host);
    }

    private static String badEscape(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == '%' && (i + 2 >= s.length() || !isHex(s.charAt(i + 1)) || !isHex(s.charAt(i + 2)))) {
                return "invalid URL escape " + GoText.quote(s.substring(i, Math.min(s.length(), i + 3)));
            }
        }
        return null;
    }

    // Go's getScheme: letters, then letters, digits, '+', '-' or '.', up to the first ':'.
    private static String scheme(String url) {
        for (int i = 0; i < url.length(); i++) {
            char c = url.charAt(i);
            boolean letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
            boolean other = (c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.';
            if (letter || (other && i > 0)) {
                continue;
            }
            return c == ':' && i > 0 ? url.substring(0, i) : "";
        }
        return "";
    }

    private static boolean isHex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }
}
