package dev.secretsencrypt.config;

/** Names a key without its secret: which provider type and which key name. */
public record KeyRef(ProviderType type, String name) {
    @Override
    public String toString() {
        return type.field() + "/" + name;
    }
}
