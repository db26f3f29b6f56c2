package dev.secretsencrypt.config;

/** {@code identity: {}}: values are stored as plaintext. */
public record IdentityProvider() implements Provider {
}
