package dev.secretsencrypt.apiserver;

import java.time.Instant;

/** This node's encryption config file as the probe needs it: its digest and when it was last written (never its bytes). */
public record ConfigFileSeen(LoadedConfigHash hash, Instant writtenAt) {
}
