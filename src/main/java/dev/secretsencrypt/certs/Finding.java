package dev.secretsencrypt.certs;

/** One flag raised on a certificate, with the detail the operator needs (names and dates, never key bytes). */
public record Finding(Flag flag, String detail) {
}
