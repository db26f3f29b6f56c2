package dev.secretsencrypt.apiserver;

/**
 * What this server's kube-apiserver says it loaded, asked from its own {@code /metrics}. One interface for the agent
 * (which reports it) and for anything else that must know whether a server loaded a file.
 */
public interface ApiserverConfigProbe {
    /**
     * Judges the file as it is now against what the apiserver says. An unreachable or silent apiserver is a result
     * ({@link LoadedConfig.Unknown}), never an exception: the caller then makes no report from it.
     */
    LoadedConfig probe(ConfigFileSeen file);

    /** Where the apiserver is, for messages and the report's source: never a token or key. */
    String describe();
}
