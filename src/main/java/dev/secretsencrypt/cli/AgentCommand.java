package dev.secretsencrypt.cli;

import dev.secretsencrypt.agent.Agent;
import dev.secretsencrypt.agent.AgentLog;
import dev.secretsencrypt.agent.AgentSettings;
import dev.secretsencrypt.apiserver.ApiserverEndpoint;
import dev.secretsencrypt.usecase.Session;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;

@Command(name = "agent", mixinStandardHelpOptions = true,
        description = {"Run on every server: keep this server's file and report current, and rotate when asked.", "",
                "Watches the cluster state in etcd and rewrites this node's encryption-config.json when it changes. "
                + "Reports what this server's kube-apiserver loaded, read from its own /metrics (--apiserver-url); "
                + "without that URL it cannot see a reload, so it reports nothing and the sync run at kube-apiserver's "
                + "restart reports the file. The report is kept alive by a lease: when the agent stops, the "
                + "report turns stale and holds back rotate and reencrypt. One agent leads: it carries out "
                + "re-encryptions requested with reencrypt --async, resumes one whose runner died, and with "
                + "--rotate-every runs rotate-keys on that schedule. Serves /metrics and /healthz on a loopback port. "
                + "Runs until SIGTERM (systemd: secrets-encrypt-agent.service)."})
final class AgentCommand extends StateCommand {
    @Mixin
    ApiserverOptions apiserver;

    @Option(names = "--metrics-address", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:9623",
            converter = MetricsAddress.class,
            description = "Where to serve /metrics and /healthz (default: ${DEFAULT-VALUE}); 'off' serves nothing. "
                    + "Keep it on loopback: it needs no credentials.")
    InetSocketAddress metricsAddress; // null for off: picocli would wrap an Optional field's converted value again

    @Option(names = "--rotate-every", converter = WarnPeriod.class, paramLabel = "DURATION",
            description = "Rotate the keys on this schedule (e.g. 7d), from stage start or reencrypt_finished, only "
                    + "once the previous rotation finished and only when every server's agent reports from its "
                    + "kube-apiserver. The leader also finishes a rotation it finds at prepare or rotate. Default: never.")
    Duration rotateEvery;

    @Option(names = "--wait-timeout", converter = WarnPeriod.class, paramLabel = "DURATION", defaultValue = "5m",
            description = "How long each wait of a scheduled rotation may take (default: ${DEFAULT-VALUE}); after "
                    + "a timeout the leader tries again later.")
    Duration waitTimeout;

    // the agent's clocks, shortened by tests: report lease seconds, probe interval ms, leader recheck ms
    @Option(names = "--report-lease-seconds", hidden = true, defaultValue = "20")
    long reportLeaseSeconds;

    @Option(names = "--probe-interval-ms", hidden = true, defaultValue = "2000")
    long probeMillis;

    @Option(names = "--leader-recheck-ms", hidden = true, defaultValue = "10000")
    long leaderRecheckMillis;

    private final Clock clock = Clock.systemUTC();
    private final AgentLog log = AgentLog.toStdout(clock);

    /** The session's notes are events in the agent's log, one line each with its level, like every other. */
    @Override
    Consumer<String> warnings() {
        return log::warning;
    }

    @Override
    Reply run(Session session) throws Exception {
        if (waitTimeout.isZero() || rotateEvery != null && rotateEvery.isZero()) {
            throw new ParameterException(spec.commandLine(), "--wait-timeout and --rotate-every must be above zero");
        }
        apiserver.endpoint().ifPresent(ApiserverEndpoint::requireThisMachine);
        AgentSettings settings = new AgentSettings(apiserver.probe(session.settings().apiserver()),
                Optional.ofNullable(rotateEvery), waitTimeout, Optional.ofNullable(metricsAddress), AgentSettings.Timing.of(
                Duration.ofSeconds(reportLeaseSeconds), Duration.ofMillis(probeMillis), Duration.ofMillis(leaderRecheckMillis)));
        Agent agent = new Agent(session, settings, log);
        Thread stop = new Thread(agent::close, "agent-stop");
        Runtime.getRuntime().addShutdownHook(stop);
        agent.run();
        return Reply.ok("");
    }

    /** {@code HOST:PORT}, or {@code off} for none. */
    static final class MetricsAddress implements ITypeConverter<InetSocketAddress> {
        @Override
        public InetSocketAddress convert(String value) {
            if (value.equals("off")) {
                return null;
            }
            int colon = value.lastIndexOf(':');
            String port = colon < 1 ? "" : value.substring(colon + 1);
            if (!port.matches("[0-9]{1,5}") || Integer.parseInt(port) > 65535) {
                throw new TypeConversionException("'" + value + "' is not HOST:PORT: give e.g. 127.0.0.1:9623, or off");
            }
            return new InetSocketAddress(value.substring(0, colon).replace("[", "").replace("]", ""),
                    Integer.parseInt(port));
        }
    }
}
