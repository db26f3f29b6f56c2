package dev.secretsencrypt.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.TreeMap;
import javax.net.ssl.SSLContext;

/** kube-apiserver's REST API through Java's own HttpClient: Secrets, ConfigMaps, namespaces, /metrics, /readyz. */
final class KubeApi {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final URI base;
    private final HttpClient http;

    KubeApi(URI base, SSLContext tls) {
        this.base = base;
        this.http = HttpClient.newBuilder().sslContext(tls).connectTimeout(Duration.ofSeconds(5)).build();
    }

    URI base() {
        return base;
    }

    /** True once /readyz answers 200; false while it refuses connections or answers otherwise. */
    boolean ready() {
        try {
            return send("GET", "/readyz", null, null).statusCode() == 200;
        } catch (IOException e) {
            return false;
        }
    }

    String metrics() {
        return ok(call("GET", "/metrics", null, null), 200, "read /metrics");
    }

    void ensureNamespace(String ns) {
        ObjectNode body = object("Namespace", ns, null);
        HttpResponse<String> r = call("POST", "/api/v1/namespaces", "application/json", body.toString());
        if (r.statusCode() != 201 && r.statusCode() != 409) {
            ok(r, 201, "create namespace " + ns);
        }
    }

    void createSecret(String ns, String name, Map<String, String> data) {
        create("Secret", "secrets", ns, name, encoded(data));
    }

    /** A kubernetes.io/tls Secret, as cert-manager or kubectl create secret tls makes it. */
    void createTlsSecret(String ns, String name, String certificatePem, String keyPem) {
        ObjectNode body = object("Secret", name, ns);
        body.put("type", "kubernetes.io/tls");
        body.set("data", JSON.valueToTree(encoded(Map.of("tls.crt", certificatePem, "tls.key", keyPem))));
        ok(call("POST", "/api/v1/namespaces/" + ns + "/secrets", "application/json", body.toString()), 201,
                "create TLS secret " + ns + "/" + name);
    }

    /** Merge-patches the Secret's data: the keys given take these values, whoever wrote before. */
    void updateSecret(String ns, String name, Map<String, String> data) {
        ObjectNode patch = JSON.createObjectNode();
        patch.set("data", JSON.valueToTree(encoded(data)));
        ok(call("PATCH", "/api/v1/namespaces/" + ns + "/secrets/" + name, "application/merge-patch+json", patch.toString()),
                200, "update secret " + ns + "/" + name);
    }

    /** The Secret's data, decoded, as the API returns it. */
    Map<String, String> secret(String ns, String name) {
        JsonNode s = read(ok(call("GET", "/api/v1/namespaces/" + ns + "/secrets/" + name, null, null), 200,
                "read secret " + ns + "/" + name));
        Map<String, String> data = new TreeMap<>();
        s.path("data").fields().forEachRemaining(e -> data.put(e.getKey(),
                new String(Base64.getDecoder().decode(e.getValue().asText()), StandardCharsets.UTF_8)));
        return data;
    }

    void createConfigMap(String ns, String name, Map<String, String> data) {
        create("ConfigMap", "configmaps", ns, name, data);
    }

    Map<String, String> configMap(String ns, String name) {
        JsonNode c = read(ok(call("GET", "/api/v1/namespaces/" + ns + "/configmaps/" + name, null, null), 200,
                "read configmap " + ns + "/" + name));
        Map<String, String> data = new TreeMap<>();
        c.path("data").fields().forEachRemaining(e -> data.put(e.getKey(), e.getValue().asText()));
        return data;
    }

    private void create(String kind, String resource, String ns, String name, Map<String, String> data) {
        ObjectNode body = object(kind, name, ns);
        body.set("data", JSON.valueToTree(data));
        ok(call("POST", "/api/v1/namespaces/" + ns + "/" + resource, "application/json", body.toString()), 201,
                "create " + kind + " " + ns + "/" + name);
    }

    private static ObjectNode object(String kind, String name, String ns) {
        ObjectNode o = JSON.createObjectNode().put("apiVersion", "v1").put("kind", kind);
        ObjectNode meta = o.putObject("metadata").put("name", name);
        if (ns != null) {
            meta.put("namespace", ns);
        }
        return o;
    }

    private static Map<String, String> encoded(Map<String, String> data) {
        Map<String, String> b64 = new TreeMap<>();
        data.forEach((k, v) -> b64.put(k, Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8))));
        return b64;
    }

    private static JsonNode read(String body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new IllegalStateException("kube-apiserver answered something that is not JSON: " + e.getMessage(), e);
        }
    }

    private String ok(HttpResponse<String> r, int expected, String what) {
        if (r.statusCode() != expected) {
            throw new IllegalStateException(what + " on " + base + ": HTTP " + r.statusCode() + " " + r.body());
        }
        return r.body();
    }

    private HttpResponse<String> call(String method, String path, String contentType, String body) {
        try {
            return send(method, path, contentType, body);
        } catch (IOException e) {
            throw new IllegalStateException(method + " " + base + path + " failed: " + e.getMessage(), e);
        }
    }

    private HttpResponse<String> send(String method, String path, String contentType, String body) throws IOException {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path)).timeout(TIMEOUT)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            b.header("Content-Type", contentType);
        }
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
