package dev.secretsencrypt.config;

import java.math.BigInteger;
import java.util.Map;

/**
 * A Go time.Duration in nanoseconds: KMS {@code timeout} is parsed and printed exactly as kube-apiserver does
 * ({@code 15s}, {@code -15s}, {@code 100ms}, {@code 1m30s}), so validation messages match its wording.
 */
record GoDuration(long nanos) {
    static final GoDuration KMS_DEFAULT_TIMEOUT = new GoDuration(3_000_000_000L);

    private static final BigInteger LIMIT = BigInteger.ONE.shiftLeft(63);
    private static final Map<String, Long> UNITS = Map.of(
            "ns", 1L, "us", 1_000L, "\u00b5s", 1_000L, "\u03bcs", 1_000L,
            "ms", 1_000_000L, "s", 1_000_000_000L, "m", 60_000_000_000L, "h", 3_600_000_000_000L);

    /** The bad input, as Go's time.ParseDuration reports it. */
    static final class Invalid extends Exception {
        Invalid(String message) {
            super(message, null, false, false);
        }
    }

    /** time.ParseDuration: {@code [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+}, or a bare {@code 0}. */
    static GoDuration parse(String text) throws Invalid {
        String s = text;
        boolean negative = false;
        if (!s.isEmpty() && (s.charAt(0) == '-' || s.charAt(0) == '+')) {
            negative = s.charAt(0) == '-';
            s = s.substring(1);
        }
        if (s.equals("0")) {
            return new GoDuration(0);
        }
        if (s.isEmpty()) {
            throw invalid(text);
        }
        BigInteger total = BigInteger.ZERO;
        while (!s.isEmpty()) {
            Term term = Term.at(s, text);
            total = total.add(term.nanos());
            if (total.compareTo(LIMIT) > 0) {
                throw invalid(text);
            }
            s = s.substring(term.end());
        }
        if (negative) {
            return new GoDuration(total.negate().longValueExact());
        }
        if (total.compareTo(LIMIT) >= 0) {
            throw invalid(text);
        }
        return new GoDuration(total.longValueExact());
    }

    /** One {@code <number>[.<fraction>]<unit>} at the start of {@code s}, and where it ends. */
    private record Term(BigInteger nanos, int end) {
        static Term at(String s, String text) throws Invalid {
            if (!(s.charAt(0) == '.' || isDigit(s.charAt(0)))) {
                throw invalid(text);
            }
            int i = digitsEnd(s, 0);
            boolean before = i > 0;
            BigInteger whole = i > 0 ? new BigInteger(s.substring(0, i)) : BigInteger.ZERO;
            if (whole.compareTo(LIMIT) > 0) {
                throw invalid(text);
            }
            String fraction = "";
            if (i < s.length() && s.charAt(i) == '.') {
                int start = i + 1;
                i = digitsEnd(s, start);
                fraction = s.substring(start, i);
            }
            if (!before && fraction.isEmpty()) {
                throw invalid(text);
            }
            int unitEnd = i;
            while (unitEnd < s.length() && s.charAt(unitEnd) != '.' && !isDigit(s.charAt(unitEnd))) {
                unitEnd++;
            }
            if (unitEnd == i) {
                throw new Invalid("time: missing unit in duration " + GoText.quote(text));
            }
            String unitName = s.substring(i, unitEnd);
            Long unit = UNITS.get(unitName);
            if (unit == null) {
                throw new Invalid("time: unknown unit " + GoText.quote(unitName) + " in duration " + GoText.quote(text));
            }
            BigInteger value = whole.multiply(BigInteger.valueOf(unit));
            if (!fraction.isEmpty()) {
                // Go adds the fraction truncated to whole nanoseconds.
                value = value.add(new BigInteger(fraction).multiply(BigInteger.valueOf(unit))
                        .divide(BigInteger.TEN.pow(fraction.length())));
            }
            return new Term(value, unitEnd);
        }
    }

    boolean isPositive() {
        return nanos > 0;
    }

    /** time.Duration.String: {@code 1h2m3.5s}, {@code 1.5ms}, {@code 0s}. */
    @Override
    public String toString() {
        if (nanos == 0) {
            return "0s";
        }
        long u = nanos < 0 ? -nanos : nanos; // Long.MIN_VALUE stays negative: read it as unsigned below
        StringBuilder out = new StringBuilder();
        if (Long.compareUnsigned(u, 1_000_000_000L) < 0) {
            String unit;
            int precision;
            if (u < 1_000L) {
                unit = "ns";
                precision = 0;
            } else if (u < 1_000_000L) {
                unit = "\u00b5s";
                precision = 3;
            } else {
                unit = "ms";
                precision = 6;
            }
            out.append(Long.toUnsignedString(u / pow10(precision))).append(fraction(u % pow10(precision), precision))
                    .append(unit);
        } else {
            long seconds = Long.divideUnsigned(u, 1_000_000_000L);
            String frac = fraction(Long.remainderUnsigned(u, 1_000_000_000L), 9);
            long minutes = seconds / 60;
            long hours = minutes / 60;
            if (hours > 0) {
                out.append(hours).append('h');
            }
            if (minutes > 0) {
                out.append(minutes % 60).append('m');
            }
            out.append(seconds % 60).append(frac).append('s');
        }
        return nanos < 0 ? "-" + out : out.toString();
    }

    // ".5" for 500 with precision 3; empty when the fraction is zero (Go drops trailing zeros and the point).
    private static String fraction(long value, int precision) {
        if (value == 0 || precision == 0) {
            return "";
        }
        String digits = String.format("%0" + precision + "d", value).replaceFirst("0+$", "");
        return "." + digits;
    }

    private static long pow10(int n) {
        long p = 1;
        for (int i = 0; i < n; i++) {
            p *= 10;
        }
        return p;
    }

    private static int digitsEnd(String s, int from) {
        int i = from;
        while (i < s.length() && isDigit(s.charAt(i))) {
            i++;
        }
        return i;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static Invalid invalid(String text) {
        return new Invalid("time: invalid duration " + GoText.quote(text));
    }
}
