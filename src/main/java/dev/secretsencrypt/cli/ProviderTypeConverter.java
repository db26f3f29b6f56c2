package dev.secretsencrypt.cli;

import dev.secretsencrypt.config.ProviderType;
import picocli.CommandLine;

/** {@code --provider aescbc|aesgcm|secretbox}; anything else is a usage error (exit 2). */
final class ProviderTypeConverter implements CommandLine.ITypeConverter<ProviderType> {
    @Override
    public ProviderType convert(String value) {
        return ProviderType.byField(value).orElseThrow(() -> new CommandLine.TypeConversionException(
                "unknown provider \"" + value + "\": use one of aescbc, aesgcm, secretbox"));
    }
}
