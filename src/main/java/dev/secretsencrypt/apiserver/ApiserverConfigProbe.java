package dev.secretsencrypt.apiserver;

/**
 * What this server's kube-apiserver says it loaded, asked from its own {@code /metrics}. One interface for the agent
 * (which reports it) and for anything else that must know whether a server loaded a file.
 */
public interface ApiserverConfigProbe {
    /**
     * Asks now. An unreachable or silent apiserver, or an answer from another kube-apiserver than {@link #expected()},
     * is a result ({@link LoadedConfig.Unknown}), never an exception: the caller then makes no report from it.
     */
    LoadedConfig probe();

    /** The identity of this server's own kube-apiserver, the only one whose answers count. */
    ApiserverIdentity expected();

    /** Where the apiserver is, for messages and the report's source: never a token or key. */
    String describe();
}
