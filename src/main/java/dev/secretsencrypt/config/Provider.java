package dev.secretsencrypt.config;

/** One element of {@code providers}: exactly one provider type, as Kubernetes requires. */
public sealed interface Provider permits KeyedProvider, IdentityProvider, KmsProvider {
}
