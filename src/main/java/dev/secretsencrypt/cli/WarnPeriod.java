package dev.secretsencrypt.cli;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** --warn as Go writes durations (720h, 1h30m) plus days (30d), since certificate lifetimes are counted in days. */
final class WarnPeriod implements ITypeConverter<Duration> {
    private static final Pattern WHOLE = Pattern.compile("(?:[0-9]+(?:d|h|m|s))+");
    private static final Pattern PART = Pattern.compile("([0-9]+)(d|h|m|s)");

    @Override
    public Duration convert(String text) {
        String s = text.trim();
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        if (!WHOLE.matcher(s).matches()) {
            throw new TypeConversionException("'" + text + "' is not a duration: give one such as 30d, 720h or 1h30m");
        }
        Duration total = Duration.ZERO;
        Matcher m = PART.matcher(s);
        try {
            while (m.find()) {
                long n = Long.parseLong(m.group(1));
                total = total.plus(switch (m.group(2)) {
                    case "d" -> Duration.ofDays(n);
                    case "h" -> Duration.ofHours(n);
                    case "m" -> Duration.ofMinutes(n);
                    default -> Duration.ofSeconds(n);
                });
            }
        } catch (ArithmeticException | NumberFormatException tooLarge) {
            throw new TypeConversionException("'" + text + "' is too long a duration: give one such as 30d or 720h");
        }
        return total;
    }
}
