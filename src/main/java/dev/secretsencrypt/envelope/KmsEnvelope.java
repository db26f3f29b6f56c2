package dev.secretsencrypt.envelope;

import dev.secretsencrypt.config.KmsProvider;

/**
 * Recognises the values of a KMS provider ({@code k8s:enc:kms:v1:<name>:} or {@code v2}) so they are reported
 * as such; their data keys live in the KMS plugin, which this tool cannot call, so it neither reads nor writes.
 */
final class KmsEnvelope implements Envelope {
    private final byte[] prefix;
    private final String version;
    private final String name;

    KmsEnvelope(KmsProvider provider) {
        this.version = provider.effectiveApiVersion();
        this.name = provider.name();
        this.prefix = Prefixes.of("kms", version, name);
    }

    static String reason(String version, String name) {
        String which = name == null ? "a KMS provider" : "KMS provider " + name;
        return "encrypted by " + which + " (kms " + (version == null ? "" : version) + "): reading it needs the KMS"
                + " plugin, which secrets-encrypt cannot use; let kube-apiserver rewrite it (kubectl replace)";
    }

    @Override
    public byte[] prefix() {
        return prefix;
    }

    @Override
    public byte[] seal(byte[] plaintext, byte[] etcdKey) {
        throw new IllegalStateException(description() + ": secrets-encrypt cannot encrypt with a KMS provider;"
                + " put an aescbc, aesgcm or secretbox provider first");
    }

    @Override
    public byte[] open(byte[] stored, byte[] etcdKey) throws UnreadableValue {
        throw new UnreadableValue(etcdKey, description() + ": " + reason(version, name));
    }

    @Override
    public String description() {
        return "kms" + version + "/" + name;
    }

    @Override
    public String toString() {
        return description();
    }
}
