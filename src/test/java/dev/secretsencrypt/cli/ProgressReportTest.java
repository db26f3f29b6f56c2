package dev.secretsencrypt.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.reencrypt.Summary;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class ProgressReportTest {

    @Test
    void summaryGivesCountsOneDecimalSecondsAndEveryHandledValuePerSecond() {
        assertEquals("reencrypted 20000 values (0 unchanged, 0 failed) in 4.3 s (4651/s)",
                Summary.of(20000, 0, 0, Duration.ofMillis(4300)));
        assertEquals("reencrypted 900 values (95 unchanged, 5 failed) in 2.0 s (500/s)",
                Summary.of(900, 95, 5, Duration.ofSeconds(2)));
        assertEquals("reencrypted 0 values (0 unchanged, 0 failed) in 0.0 s (0/s)",
                Summary.of(0, 0, 0, Duration.ZERO));
    }

    @Test
    void offATerminalItPrintsOnePlainLineEveryFiveSecondsAndOneAtClose() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        AtomicLong clock = new AtomicLong();
        try (ProgressReport report = ProgressReport.start("reencrypt", 0, new PrintStream(bytes, true, UTF_8),
                false, clock::get)) {
            clock.set(Duration.ofSeconds(2).toNanos());
            report.update(4000, 20000);
            clock.set(Duration.ofSeconds(5).toNanos());
            report.update(12000);
            clock.set(Duration.ofSeconds(6).toNanos());
            report.update(14000);
            clock.set(Duration.ofSeconds(8).toNanos());
            report.update(20000);
        }

        assertEquals("reencrypt: 12000/20000 values (60%), 2400/s\n"
                + "reencrypt: 20000/20000 values (100%), 2500/s\n", bytes.toString(UTF_8));
    }

    @Test
    void valuesCreatedDuringThePassCountInTheTotalItShows() {
        assertEquals("reencrypt: 85/85 values (100%), 85/s",
                ProgressReport.line("reencrypt", 85, 84, Duration.ofSeconds(1)));
        assertEquals("reencrypt: 42/84 values (50%), 42/s",
                ProgressReport.line("reencrypt", 42, 84, Duration.ofSeconds(1)));
    }

    @Test
    void onATerminalItDrawsAProgressBarAndClosesIt() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ProgressReport report = ProgressReport.start("reencrypt", 0, new PrintStream(bytes, true, UTF_8), true,
                System::nanoTime)) {
            report.update(100, 200); // the pass counted 200 values once it started
            report.update(250, 200); // values created during the pass push the bar past that total
        }

        String drawn = bytes.toString(UTF_8);
        assertTrue(drawn.contains("reencrypt") && drawn.contains("100%") && drawn.contains("250/250"), drawn);
    }
}
