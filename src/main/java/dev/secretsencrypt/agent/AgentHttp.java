package dev.secretsencrypt.agent;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/** {@code /metrics} and {@code /healthz} on a loopback address: GET only, plain text, nothing secret. */
final class AgentHttp implements AutoCloseable {
    private final HttpServer server;

    private AgentHttp(HttpServer server) {
        this.server = server;
    }

    /** {@code health} is empty while healthy, else the reason, which /healthz returns with 503. */
    static AgentHttp start(InetSocketAddress address, AgentMetrics metrics, Supplier<Optional<String>> health)
            throws IOException {
        HttpServer server = HttpServer.create(address, 16);
        server.createContext("/metrics", exchange -> respond(exchange, 200, "text/plain; version=0.0.4; charset=utf-8",
                metrics.render()));
        server.createContext("/healthz", exchange -> {
            Optional<String> problem = health.get();
            respond(exchange, problem.isEmpty() ? 200 : 503, "text/plain; charset=utf-8",
                    problem.map(p -> "unhealthy: " + p + "\n").orElse("ok\n"));
        });
        server.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "agent-http");
            t.setDaemon(true);
            return t;
        }));
        server.start();
        return new AgentHttp(server);
    }

    InetSocketAddress address() {
        return server.getAddress();
    }

    private static void respond(HttpExchange exchange, int status, String type, String body) throws IOException {
        try (exchange) {
            if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
                exchange.sendResponseHeaders(405, -1);
                return;
            }
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", type);
            exchange.sendResponseHeaders(status, "HEAD".equals(exchange.getRequestMethod()) ? -1 : bytes.length);
            if (!"HEAD".equals(exchange.getRequestMethod())) {
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(bytes);
                }
            }
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
