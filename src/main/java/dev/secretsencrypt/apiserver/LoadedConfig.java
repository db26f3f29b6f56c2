package dev.secretsencrypt.apiserver;

import dev.secretsencrypt.config.ConfigHash;
import java.util.Optional;

/** What a kube-apiserver's metrics say about the encryption config it serves with, and who said it. */
public sealed interface LoadedConfig {

    /** This server's own kube-apiserver ({@code by}) serves with the config of this digest (maybe not the file's yet). */
    record Loaded(ConfigHash hash, ApiserverIdentity by) implements LoadedConfig {
    }

    /**
     * It could not be asked, or its answer cannot count: {@code why} says which, with what to do. {@code answeredBy}
     * is the {@code apiserver_id_hash} of another kube-apiserver that answered instead (a load balancer, a wrong URL).
     */
    record Unknown(String why, Optional<String> answeredBy) implements LoadedConfig {
    }

    static Unknown unknown(String why) {
        return new Unknown(why, Optional.empty());
    }
}
