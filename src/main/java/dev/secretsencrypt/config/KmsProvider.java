package dev.secretsencrypt.config;

/**
 * A KMS provider; its keys live in the plugin, so this tool validates and preserves it but never changes it.
 * Fields are kept as written (null when absent) so the file round-trips; defaults are applied only when shown.
 */
public record KmsProvider(String apiVersion, String name, String endpoint, Integer cachesize, String timeout)
        implements Provider {
    /** {@code v1} when absent, as kube-apiserver defaults it. */
    public String effectiveApiVersion() {
        return apiVersion == null || apiVersion.isEmpty() ? "v1" : apiVersion;
    }
}
