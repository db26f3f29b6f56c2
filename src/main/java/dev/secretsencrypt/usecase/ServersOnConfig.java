package dev.secretsencrypt.usecase;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The registered servers (each one that reported) split by whether they loaded the current config, by node name;
 * of those behind, {@code withAgents} are the ones whose running agent will report by itself once they load it,
 * {@code stale} the ones whose agent stopped renewing its report, and {@code agentProblems} what keeps a running
 * agent from reporting. {@code unaccounted} says which running kube-apiservers no registered server reports for.
 */
record ServersOnConfig(List<String> loaded, List<String> behind, List<String> withAgents, List<String> stale,
                       Map<String, String> agentProblems, Optional<String> unaccounted) {
    ServersOnConfig {
        loaded = List.copyOf(loaded);
        behind = List.copyOf(behind);
        withAgents = List.copyOf(withAgents);
        stale = List.copyOf(stale);
        agentProblems = Map.copyOf(agentProblems);
    }

    /** No server reported yet: nothing proves any kube-apiserver loaded anything. */
    boolean noneRegistered() {
        return loaded.isEmpty() && behind.isEmpty();
    }

    boolean everyServer() {
        return !loaded.isEmpty() && behind.isEmpty() && unaccounted.isEmpty();
    }

    int registered() {
        return loaded.size() + behind.size();
    }

    /**
     * What the operator does about the servers behind: restart those without an agent, start the agents that stopped,
     * fix what keeps an agent from reporting, wait for the others; and account for every running kube-apiserver.
     */
    String whatToDo() {
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
