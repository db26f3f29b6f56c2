package dev.secretsencrypt.usecase;

import java.util.List;

/** The registered servers (each one that reported) split by whether they loaded the current config, by node name. */
record ServersOnConfig(List<String> loaded, List<String> behind) {
    ServersOnConfig {
        loaded = List.copyOf(loaded);
        behind = List.copyOf(behind);
    }

    /** No server reported yet: nothing proves any kube-apiserver loaded anything. */
    boolean noneRegistered() {
        return loaded.isEmpty() && behind.isEmpty();
    }

    boolean everyServer() {
        return !loaded.isEmpty() && behind.isEmpty();
    }

    int registered() {
        return loaded.size() + behind.size();
    }
}
