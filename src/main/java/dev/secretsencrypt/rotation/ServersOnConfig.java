package dev.secretsencrypt.rotation;

import dev.secretsencrypt.config.ConfigHash;
import java.util.ArrayList;
import java.util.TreeMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The every-server gate, the one rule before a key becomes the writer or is retired: the registered servers (each one
 * that reported) split by whether they loaded the current config, by node name; of those behind, {@code withAgents}
 * are the ones whose running agent will report by itself once they load it, {@code stale} the ones whose agent stopped
 * renewing its report, and {@code agentProblems} what keeps a running agent from reporting. {@code unaccounted} says
 * which running kube-apiservers no registered server reports for. {@code rotate}, {@code reencrypt} (before the pass
 * and before retiring) and {@code rotate-keys}' waits all ask it; no flag skips it.
 */
public record ServersOnConfig(List<String> loaded, List<String> behind, List<String> withAgents, List<String> stale,
                       Map<String, String> agentProblems, Optional<String> unaccounted) {
    /** A registered server as the gate sees it: its report, and its agent while one runs. */
    public record Server(NodeReport report, Optional<Agent> agent) {
    }

    /** A running agent: whether it reads its kube-apiserver (else it reports nothing), and what keeps it from reporting. */
    public record Agent(boolean readsApiserver, Optional<String> problem) {
    }

    /**
     * The gate for the config of {@code configHash} at {@code stage}: {@code match} says whether the stage part of a
     * report counts too (rotate's prepared config) or the hash alone (re-encryption stages leave the file as it is).
     */
    public static ServersOnConfig of(Stage stage, ConfigHash configHash, ReportMatch match, List<Server> servers,
                                     Optional<String> unaccounted) {
        List<String> loaded = new ArrayList<>();
        List<String> behind = new ArrayList<>();
        List<String> withAgents = new ArrayList<>();
        List<String> stale = new ArrayList<>();
        Map<String, String> agentProblems = new TreeMap<>();
        for (Server s : servers) {
            NodeReport r = s.report();
            // an agent that reads its apiserver and cannot now says its stored report may no longer be true
            Optional<String> cannotVouch = s.agent().filter(Agent::readsApiserver).flatMap(Agent::problem);
            if (r.loaded(stage, configHash, match) && cannotVouch.isEmpty()) {
                loaded.add(r.node());
            } else if (!r.readable()) {
                behind.add(r.node() + " (its report does not parse)");
            } else if (r.stale()) {
                behind.add(r.node());
                stale.add(r.node());
            } else {
                behind.add(r.node());
                if (s.agent().flatMap(Agent::problem).isPresent()) {
                    agentProblems.put(r.node(), s.agent().get().problem().get());
                } else if (s.agent().filter(Agent::readsApiserver).isPresent()) {
                    withAgents.add(r.node());
                }
            }
        }
        return new ServersOnConfig(loaded, behind, withAgents, stale, agentProblems, unaccounted);
    }

    /** Why {@code command} must wait, in a sentence with what to do; empty when every server is on the config. */
    public Optional<String> behindSentence() {
        if (noneRegistered()) {
            return Optional.of("no server has reported its hash yet. Run sync on every server");
        }
        if (everyServer()) {
            return Optional.empty();
        }
        String todo = whatToDo();
        if (behind.isEmpty()) {
            return Optional.of(todo); // every server loaded it: what is left is a kube-apiserver none reports for
        }
        return Optional.of("not every server loaded the current config. " + Character.toUpperCase(todo.charAt(0))
                + todo.substring(1));
    }

    /** The refusal of {@code command} while the gate is closed; -f never opens it. */
    public Optional<String> refusal(String command) {
        return behindSentence().map(behind -> command + " is refused: " + behind + ", then run " + command + " again "
                + "(-f does not skip this check: a server that has not loaded the config would lose data)");
    }

    public ServersOnConfig {
        loaded = List.copyOf(loaded);
        behind = List.copyOf(behind);
        withAgents = List.copyOf(withAgents);
        stale = List.copyOf(stale);
        agentProblems = Map.copyOf(agentProblems);
    }

    /** No server reported yet: nothing proves any kube-apiserver loaded anything. */
    public boolean noneRegistered() {
        return loaded.isEmpty() && behind.isEmpty();
    }

    public boolean everyServer() {
        return !loaded.isEmpty() && behind.isEmpty() && unaccounted.isEmpty();
    }

    public int registered() {
        return loaded.size() + behind.size();
    }

    /**
     * What the operator does about the servers behind: restart those without an agent, start the agents that stopped,
     * fix what keeps an agent from reporting, wait for the others; and account for every running kube-apiserver.
     */
    public String whatToDo() {
        List<String> restart = behind.stream().filter(s -> !withAgents.contains(s) && !stale.contains(s)
                && !agentProblems.containsKey(s)).toList();
        List<String> parts = new ArrayList<>();
        if (!stale.isEmpty()) {
            parts.add("start the agent on " + String.join(", ", stale) + " (its report is stale: the agent stopped "
                    + "renewing it, or lost etcd: see its /healthz and give it every etcd member), or restart "
                    + "kube-apiserver there and run sync; a server gone for good: nodes forget");
        }
        agentProblems.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(p -> parts.add("the agent on "
                + p.getKey() + " cannot report: " + p.getValue()));
        if (!restart.isEmpty()) {
            parts.add("restart kube-apiserver on " + String.join(", ", restart) + " (run sync there first)");
        }
        if (!withAgents.isEmpty()) {
            parts.add("the agent" + (withAgents.size() > 1 ? "s" : "") + " on " + String.join(", ", withAgents)
                    + " report" + (withAgents.size() > 1 ? "" : "s") + " once kube-apiserver there loaded the file "
                    + "(automatic reload checks it about once a minute; else restart it)");
        }
        unaccounted.ifPresent(parts::add);
        return String.join("; ", parts);
    }
}
