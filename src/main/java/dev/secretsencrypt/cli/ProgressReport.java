package dev.secretsencrypt.cli;

import dev.secretsencrypt.reencrypt.Checkpoint;
import dev.secretsencrypt.reencrypt.PassListener;
import java.io.PrintStream;
import java.time.Duration;
import java.util.function.LongSupplier;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress for an operator: a progress bar on a terminal, otherwise (a log, systemd, CI) one plain line every
 * {@value #LINE_EVERY_SECONDS} s such as {@code reencrypt: 12000/20000 values (60%), 4100/s}, plus one at close.
 * Both go to the stream given (pass System.err, so stdout stays for results). The bar runs its own refresh thread
 * until {@link #close()}.
 */
public final class ProgressReport implements PassListener, AutoCloseable {
    static final int LINE_EVERY_SECONDS = 5;

    private final String task;
    private long total;
    private final PrintStream out;
    private final ProgressBar bar;
    private final LongSupplier nanoClock;
    private final long started;
    private long lastLine;
    private long done;
    private long printed = -1;
    private boolean updated; // a command refused before its pass prints no progress line
    private boolean closed;

    private ProgressReport(String task, long total, PrintStream out, ProgressBar bar, LongSupplier nanoClock) {
        this.task = task;
        this.total = total;
        this.out = out;
        this.bar = bar;
        this.nanoClock = nanoClock;
        this.started = nanoClock.getAsLong();
        this.lastLine = started;
    }

    public static ProgressReport start(String task, long total, PrintStream out) {
        return start(task, total, out, onTerminal(), System::nanoTime);
    }

    static ProgressReport start(String task, long total, PrintStream out, boolean terminal, LongSupplier nanoClock) {
        ProgressBar bar = null;
        if (terminal) {
            bar = new ProgressBarBuilder()
                    .setTaskName(task)
                    .setInitialMax(total)
                    .setStyle(ProgressBarStyle.ASCII)
                    .setUnit(" values", 1)
                    .showSpeed()
                    .setConsumer(new ConsoleProgressBarConsumer(out))
                    .build();
        }
        return new ProgressReport(task, total, out, bar, nanoClock);
    }

    private static boolean onTerminal() {
        String term = System.getenv("TERM");
        return System.console() != null && term != null && !term.isBlank() && !term.equals("dumb");
    }

    /** From the pass, after every page: the checkpoint carries done and total for the whole pass. */
    @Override
    public void progress(Checkpoint checkpoint) {
        update(checkpoint.done(), checkpoint.total());
    }

    /** {@code done} values so far, counted from the start of the whole pass (a resumed pass starts above 0). */
    public synchronized void update(long done) {
        update(done, total);
    }

    /**
     * The same, with the total as now known: a pass counts its values only once it runs, so pass
     * {@code checkpoint.done(), checkpoint.total()} from its listener.
     */
    public synchronized void update(long done, long total) {
        this.updated = true;
        this.done = done;
        this.total = total;
        if (closed) {
            return;
        }
        if (bar != null) {
            if (total > 0 && bar.getMax() != Math.max(total, done)) {
                bar.maxHint(Math.max(total, done)); // more values than counted: created during the pass
            }
            bar.stepTo(done);
            return;
        }
        long now = nanoClock.getAsLong();
        if (now - lastLine >= Duration.ofSeconds(LINE_EVERY_SECONDS).toNanos()) {
            printLine(now);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (bar != null) {
            bar.close();
        } else if (updated && done != printed) {
            printLine(nanoClock.getAsLong());
        }
    }

    private void printLine(long now) {
        lastLine = now;
        printed = done;
        out.println(line(task, done, total, Duration.ofNanos(now - started)));
        out.flush();
    }

    static String line(String task, long done, long total, Duration elapsed) {
        long rate = perSecond(done, elapsed);
        if (total <= 0) {
            return task + ": " + done + " values, " + rate + "/s";
        }
        long seen = Math.max(total, done); // more values than counted: kube-apiserver created them during the pass
        return task + ": " + done + "/" + seen + " values (" + done * 100 / seen + "%), " + rate + "/s";
    }

    private static long perSecond(long values, Duration elapsed) {
        double seconds = elapsed.toNanos() / 1e9;
        return seconds > 0 ? Math.round(values / seconds) : 0;
    }
}
