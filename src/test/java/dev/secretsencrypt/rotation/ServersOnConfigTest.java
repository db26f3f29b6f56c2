package dev.secretsencrypt.rotation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.config.ConfigHash;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The every-server gate as a table: reports × agents × apiservers unaccounted for → open, or what to do. */
@Tag("unit")
class ServersOnConfigTest {
    static final ConfigHash HASH = new ConfigHash("a".repeat(64));
    static final ConfigHash OLD = new ConfigHash("b".repeat(64));
    static final ServersOnConfig.Agent READS_APISERVER = new ServersOnConfig.Agent(true, Optional.empty());

    static ServersOnConfig.Server server(String node, Stage stage, ConfigHash hash, Optional<ServersOnConfig.Agent> agent) {
        return new ServersOnConfig.Server(new NodeReport(node, stage, hash), agent);
    }

    static ServersOnConfig gate(List<ServersOnConfig.Server> servers, Optional<String> unaccounted) {
        return ServersOnConfig.of(Stage.PREPARE, HASH, ReportMatch.CONFIG_AND_STAGE, servers, unaccounted);
    }

    @Test
    void opensOnlyWhenEveryRegisteredServerLoadedTheConfigAndNoApiserverIsUnaccountedFor() {
        List<ServersOnConfig.Server> all = List.of(server("node-1", Stage.PREPARE, HASH, Optional.empty()),
                server("node-2", Stage.PREPARE, HASH, Optional.of(READS_APISERVER)));
        assertEquals(Optional.empty(), gate(all, Optional.empty()).refusal("rotate"));
        assertEquals(Optional.of("rotate is refused: kube-apiserver on node-4 runs, then run rotate again (-f does not "
                + "skip this check: a server that has not loaded the config would lose data)"),
                gate(all, Optional.of("kube-apiserver on node-4 runs")).refusal("rotate"));
    }

    @Test
    void eachKindOfServerBehindIsToldWhatToDo() {
        List<ServersOnConfig.Server> servers = List.of(
                server("node-1", Stage.PREPARE, HASH, Optional.empty()),
                server("node-2", Stage.START, OLD, Optional.empty()),                           // sync only
                server("node-3", Stage.START, OLD, Optional.of(READS_APISERVER)),               // agent, lagging
                server("node-4", Stage.START, OLD, Optional.of(new ServersOnConfig.Agent(true,
                        Optional.of("it answered as another kube-apiserver")))),               // agent, misled
                new ServersOnConfig.Server(new NodeReport("node-5", Stage.START, OLD).asStale(), Optional.empty()),
                new ServersOnConfig.Server(NodeReport.unreadable("node-6"), Optional.empty()));
        ServersOnConfig on = gate(servers, Optional.empty());
        assertEquals(List.of("node-1"), on.loaded());
        String todo = on.whatToDo();
        assertTrue(todo.startsWith("start the agent on node-5 (its report is stale"), todo);
        assertTrue(todo.contains("; the agent on node-4 cannot report: it answered as another kube-apiserver"), todo);
        assertTrue(todo.contains("; restart kube-apiserver on node-2, node-6 (its report does not parse) (run sync there "
                + "first)"), todo);
        assertTrue(todo.endsWith("; the agent on node-3 reports once kube-apiserver there loaded the file (automatic "
                + "reload checks it about once a minute; else restart it)"), todo);
        assertTrue(on.behindSentence().orElseThrow().startsWith("not every server loaded the current config. Start the "
                + "agent on node-5"), on.behindSentence().orElseThrow());
    }

    @Test
    void aReportItsAgentCanNoLongerVouchForNeverCountsEvenWhenItMatches() {
        ServersOnConfig.Agent misled = new ServersOnConfig.Agent(true, Optional.of("it answered as another kube-apiserver"));
        ServersOnConfig on = gate(List.of(server("node-1", Stage.PREPARE, HASH, Optional.empty()),
                server("node-3", Stage.PREPARE, HASH, Optional.of(misled))), Optional.empty());
        assertEquals(List.of("node-1"), on.loaded());
        assertTrue(on.refusal("rotate").orElseThrow().contains("agent on node-3 cannot report: it answered as another "
                + "kube-apiserver"), on.refusal("rotate").toString());
        ServersOnConfig.Agent fileOnly = new ServersOnConfig.Agent(false, Optional.of("no --apiserver-url"));
        assertEquals(List.of("node-3"), gate(List.of(server("node-3", Stage.PREPARE, HASH, Optional.of(fileOnly))),
                Optional.empty()).loaded(), "an agent that never read its apiserver vouches for nothing it could lose");
    }

    @Test
    void noReportAtAllNeverOpensIt() {
        assertEquals(Optional.of("no server has reported its hash yet. Run sync on every server"),
                gate(List.of(), Optional.empty()).behindSentence());
    }

    @Test
    void reEncryptionStagesCountTheConfigAloneRotateCountsItsStageToo() {
        List<ServersOnConfig.Server> synced = List.of(server("node-1", Stage.ROTATE, HASH, Optional.empty()));
        assertTrue(ServersOnConfig.of(Stage.REENCRYPT_ACTIVE, HASH, ReportMatch.CONFIG, synced, Optional.empty())
                .everyServer());
        assertTrue(!ServersOnConfig.of(Stage.REENCRYPT_ACTIVE, HASH, ReportMatch.CONFIG_AND_STAGE, synced,
                Optional.empty()).everyServer());
    }
}
