package dev.secretsencrypt.envelope;

/**
 * A value read through a {@link ProviderChain}: its plaintext, the envelope that read it, and whether it is
 * stale, i.e. not under the writer and so due for re-encryption.
 */
public record Opened(byte[] plaintext, Envelope by, boolean stale) {
}
