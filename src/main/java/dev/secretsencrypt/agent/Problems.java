package dev.secretsencrypt.agent;

import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * What is wrong with this agent now (its /healthz), and what it last said about each kind of event, so a lasting
 * condition is one log line, not one every round.
 */
final class Problems {
    /** The kinds of problem and event an agent tells about. */
    enum Kind {
        /** etcd unreachable or refusing. */
        ETCD,
        /** This server's file cannot be kept in line with the cluster state. */
        FILE,
        /** What kube-apiserver loaded cannot be told, or its answer cannot count. */
        APISERVER,
        /** This server has no report, so it is in no check. */
        REPORT,
        /** This server's file had a retired key as its writer; a pass has not run since. */
        RETIRED_KEY,
        CERTIFICATES,
        LEASE,
        LEADER,
        LEADER_ACTION,
        LEADER_REFUSED,
        SCHEDULE,
        SCAN
    }

    private final AgentLog log;
    private final Map<Kind, String> now = new EnumMap<>(Kind.class);
    private final Map<Kind, String> lastSaid = new EnumMap<>(Kind.class);

    Problems(AgentLog log) {
        this.log = log;
    }

    synchronized void set(Kind kind, String what) {
        now.put(kind, what);
    }

    synchronized void clear(Kind kind) {
        now.remove(kind);
    }

    /** A warning, logged once, and again only when its text changes. */
    synchronized void say(Kind kind, String message) {
        if (!message.equals(lastSaid.put(kind, message))) {
            log.warning(message);
        }
    }

    /** The same for an action tried again after a refusal: logged (info) when first tried, not at every retry. */
    synchronized void once(Kind kind, String message) {
        if (!message.equals(lastSaid.put(kind, message))) {
            log.info(message);
        }
    }

    /** Said again next time, even with the same text. */
    synchronized void forget(Kind kind) {
        lastSaid.remove(kind);
    }

    /** Every problem now, for /healthz; empty while healthy. */
    synchronized Optional<String> all(Optional<String> more) {
        return Stream.concat(more.stream(), now.values().stream().sorted()).reduce((a, b) -> a + "; " + b);
    }

    /** What keeps this agent from reporting, as the other servers are told it (rotate-keys and nodes name it). */
    synchronized Optional<String> keepingItFromReporting() {
        String told = Stream.of(Kind.APISERVER, Kind.REPORT).map(now::get).filter(java.util.Objects::nonNull)
                .collect(Collectors.joining("; "));
        return told.isEmpty() ? Optional.empty() : Optional.of(told);
    }
}
