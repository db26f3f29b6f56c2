package dev.secretsencrypt.rotation;

/**
 * What a server's report must match to count as loaded: rotate needs the stage too (the prepared config was loaded
 * for what it is); re-encryption stages leave the file as it is, so there the config alone counts.
 */
public enum ReportMatch { CONFIG, CONFIG_AND_STAGE }
