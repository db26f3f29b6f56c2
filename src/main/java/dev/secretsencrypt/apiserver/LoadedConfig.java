package dev.secretsencrypt.apiserver;

/** What a kube-apiserver's metrics say about the encryption config it serves with. */
public sealed interface LoadedConfig {

    /** It serves with the config of this digest (not necessarily this node's file); {@code evidence} says how we know. */
    record Loaded(LoadedConfigHash hash, Evidence evidence) implements LoadedConfig {
    }

    /** It answered, but has not (or not successfully) loaded the file as last written; {@code why} says what it showed. */
    record NotYet(String why) implements LoadedConfig {
    }

    /** It could not be asked, or its metrics say nothing usable; {@code why} says which, with what to do. */
    record Unknown(String why) implements LoadedConfig {
    }

    /** How the loaded digest is known, strongest first. */
    enum Evidence {
        /** {@code apiserver_encryption_config_controller_last_config_info} names the digest (1.34 and newer). */
        LAST_CONFIG_INFO,
        /** A successful automatic reload after the file was written (older releases with automatic reload). */
        RELOADED_AFTER_WRITE,
        /** The apiserver process started after the file was written ({@code process_start_time_seconds}). */
        STARTED_AFTER_WRITE
    }
}
