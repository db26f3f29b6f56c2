package dev.secretsencrypt.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.secretsencrypt.usecase.Reporting;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** What sync prints when the report is its agent's to make: and when that agent cannot make it, the operator hears why. */
@Tag("unit")
class SyncTextTest {
    static final Path FILE = Path.of("/var/lib/secrets-encrypt/encryption-config.json");

    @Test
    void aReportLeftToAnAgentThatCannotReportIsAWarningNamingWhy() {
        String said = SyncCommand.text(new Reporting.SyncResult(FILE, true, Optional.empty(), "node-3",
                new Reporting.Reported.LeftToAgent(Optional.of("kube-apiserver at https://127.0.0.1:6443 answered as "
                        + "another kube-apiserver"))));
        assertEquals("wrote " + FILE + "; left the report of node-3 to its agent, which reads what kube-apiserver loaded"
                + "\nwarning: the agent on node-3 cannot report now: kube-apiserver at https://127.0.0.1:6443 answered "
                + "as another kube-apiserver\nrotate and reencrypt stay refused until it can: fix that (its log and "
                + "/healthz say the same)", said);
    }

    @Test
    void aReportLeftToAWorkingAgentIsOneLine() {
        String said = SyncCommand.text(new Reporting.SyncResult(FILE, false, Optional.empty(), "node-3",
                new Reporting.Reported.LeftToAgent(Optional.empty())));
        assertEquals("already up to date: " + FILE + "; left the report of node-3 to its agent, which reads what "
                + "kube-apiserver loaded (stop the agent to report with sync instead)", said);
    }
}
