package dev.secretsencrypt.cli;

import dev.secretsencrypt.agent.Agent;
import dev.secretsencrypt.agent.AgentLog;
import dev.secretsencrypt.agent.AgentSettings;
import dev.secretsencrypt.apiserver.ApiserverConfigProbe;
import dev.secretsencrypt.failure.CommandRefused;
import dev.secretsencrypt.store.LocalState;
import dev.secretsencrypt.usecase.Session;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

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
            description = "Where to serve /metrics and /healthz (default: ${DEFAULT-VALUE}); 'off' serves nothing. "
                    + "Keep it on loopback: it needs no credentials.")
    String metricsAddress;

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
        if (waitTimeout.isZero() || rotateEvery != null && rotateEvery.isZero() || reportLeaseSeconds < 2
                || probeMillis < 1 || leaderRecheckMillis < 1) {
            throw new ParameterException(spec.commandLine(), "--wait-timeout and --rotate-every must be above zero");
        }
        apiserver.endpoint().ifPresent(e -> requireThisMachine(e.url()));
        Optional<ApiserverConfigProbe> probe = apiserver.probe(options.settings().apiserver());
        AgentSettings.Timing defaults = AgentSettings.Timing.defaults();
        Duration probeEvery = Duration.ofMillis(probeMillis);
        AgentSettings.Timing timing = new AgentSettings.Timing(Duration.ofSeconds(reportLeaseSeconds), probeEvery,
                probeEvery.equals(defaults.probeWhileLoading()) ? defaults.probeWhenLoaded() : probeEvery.multipliedBy(5),
                Duration.ofMillis(leaderRecheckMillis), Duration.ofMillis(leaderRecheckMillis).multipliedBy(6),
                defaults.certificatesEvery());
        AgentSettings settings = new AgentSettings(probe, Optional.ofNullable(rotateEvery), waitTimeout,
                address(), timing);
        Agent agent = new Agent(session, options.settings().nodeName(),
                options.settings().dataDir().resolve(LocalState.CONFIG_FILE), settings, log, clock);
        Thread stop = new Thread(agent::close, "agent-stop");
        Runtime.getRuntime().addShutdownHook(stop);
        agent.run();
        return Reply.ok("");
    }

    /**
     * The agent vouches for this server's own kube-apiserver: through a load balancer (or another host) a probe would
     * report whichever apiserver answered, and judge its counters against another process.
     */
    private static void requireThisMachine(java.net.URI url) {
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

    private Optional<InetSocketAddress> address() {
        if (metricsAddress.equals("off")) {
            return Optional.empty();
        }
        int colon = metricsAddress.lastIndexOf(':');
        try {
            if (colon < 1) {
                throw new NumberFormatException();
            }
            String host = metricsAddress.substring(0, colon).replace("[", "").replace("]", "");
            return Optional.of(new InetSocketAddress(host, Integer.parseInt(metricsAddress.substring(colon + 1))));
        } catch (NumberFormatException e) {
            throw new ParameterException(spec.commandLine(), "--metrics-address takes HOST:PORT, e.g. 127.0.0.1:9623, "
                    + "or off");
        }
    }
}
