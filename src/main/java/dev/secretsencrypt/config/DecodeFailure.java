package dev.secretsencrypt.config;

/** Why bytes could not be decoded into an EncryptionConfiguration, in the decoder's words; never file text. */
final class DecodeFailure extends Exception {
    DecodeFailure(String message) {
        super(message, null, false, false);
    }
}
