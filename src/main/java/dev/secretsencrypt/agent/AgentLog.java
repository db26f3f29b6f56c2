package dev.secretsencrypt.agent;

import java.io.PrintStream;
import java.time.Clock;

/**
 * One line per event. Under systemd (JOURNAL_STREAM set) each line starts with a syslog priority ({@code <6>}), which
 * journald reads as the entry's level and strips, and no time (journald stamps it); elsewhere an ISO time and level.
 * Lines are built from operator messages only, which never carry key material.
 */
public final class AgentLog {
    /** Syslog levels journald understands. */
    public enum Level {
        ERROR(3), WARNING(4), INFO(6);

        final int syslog;

        Level(int syslog) {
            this.syslog = syslog;
        }
    }

    private final PrintStream out;
    private final boolean journald;
    private final Clock clock;

    public AgentLog(PrintStream out, boolean journald, Clock clock) {
        this.out = out;
        this.journald = journald;
        this.clock = clock;
    }

    public static AgentLog toStdout(Clock clock) {
        return new AgentLog(System.out, System.getenv("JOURNAL_STREAM") != null, clock);
    }

    public void info(String event) {
        line(Level.INFO, event);
    }

    public void warning(String event) {
        line(Level.WARNING, event);
    }

    public void error(String event) {
        line(Level.ERROR, event);
    }

    private synchronized void line(Level level, String event) {
        String flat = event.replace('\n', ' ').replace('\r', ' ');
        out.println(journald ? "<" + level.syslog + ">" + flat
                : clock.instant() + " " + level.name().toLowerCase(java.util.Locale.ROOT) + " " + flat);
        out.flush();
    }
}
