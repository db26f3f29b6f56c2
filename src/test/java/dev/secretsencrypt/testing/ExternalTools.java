package dev.secretsencrypt.testing;

import java.io.IOException;
import java.util.concurrent.TimeUnit;

/** Whether an independent tool (openssl, Debian's python3) is here, so tests that need one can assume it. */
public final class ExternalTools {
    private ExternalTools() {
    }

    /** True when the command runs and exits 0 within 30 s. */
    public static boolean succeeds(String... command) throws InterruptedException {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException e) {
            return false;
        }
    }
}
