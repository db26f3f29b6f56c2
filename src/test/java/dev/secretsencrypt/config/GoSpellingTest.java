package dev.secretsencrypt.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The Go spellings our messages borrow: time.ParseDuration / Duration.String and strconv.Quote. */
@Tag("unit")
class GoSpellingTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource({
            "15s, 15000000000, 15s",
            "-15s, -15000000000, -15s",
            "+5s, 5000000000, 5s",
            "0s, 0, 0s",
            "0, 0, 0s",
            "-0, 0, 0s",
            "100ms, 100000000, 100ms",
            "1m30s, 90000000000, 1m30s",
            "90s, 90000000000, 1m30s",
            "1h, 3600000000000, 1h0m0s",
            "1.5h, 5400000000000, 1h30m0s",
            ".5s, 500000000, 500ms",
            "1500us, 1500000, 1.5ms",
            "1500\u00b5s, 1500000, 1.5ms",
            "1ns, 1, 1ns",
            "2h45m3.004s, 9903004000000, 2h45m3.004s",
            "-9223372036854775808ns, -9223372036854775808, -2562047h47m16.854775808s",
    })
    void parsesAndPrintsDurationsAsGo(String text, long nanos, String printed) throws GoDuration.Invalid {
        GoDuration d = GoDuration.parse(text);
        assertEquals(nanos, d.nanos());
        assertEquals(printed, d.toString());
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(strings = {"", "abc", "-", "s", ".s", "1.s.", "9223372036854775808ns", "10 s"})
    void refusesWhatGoRefuses(String text) {
        assertThrows(GoDuration.Invalid.class, () -> GoDuration.parse(text));
    }

    @Test
    void durationErrorsUseGoWording() {
        assertEquals("time: missing unit in duration \"15\"", assertThrows(GoDuration.Invalid.class, () -> GoDuration.parse("15")).getMessage());
        assertEquals("time: unknown unit \"d\" in duration \"1d\"", assertThrows(GoDuration.Invalid.class, () -> GoDuration.parse("1d")).getMessage());
        assertEquals("time: invalid duration \"abc\"", assertThrows(GoDuration.Invalid.class, () -> GoDuration.parse("abc")).getMessage());
    }

    @Test
    void quotesAsStrconvQuote() {
        assertEquals("\"plain\"", GoText.quote("plain"));
        assertEquals("\"a\\\"b\\\\c\\n\\t\\x00\\x7f\"", GoText.quote("a\"b\\c\n\t\u0000\u007f"));
        assertEquals("\"caf\u00e9 \\u00a0\"", GoText.quote("caf\u00e9 \u00a0"));
    }
}
