package dev.secretsencrypt.rotation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.config.ConfigHash;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** What the agents decide, without an agent: the leader's next action, the schedule, when to report again. */
@Tag("unit")
class AgentRulesTest {
    static final Instant NOW = Instant.parse("2026-12-03T10:00:00Z");

    @Test
    void theLeaderActsOnEachStageAsTheTableSays() {
        record Row(Stage stage, boolean runnerAlive, boolean retiredWriter, boolean scheduled, boolean due,
                   LeaderAction expected) {
        }
        for (Row r : List.of(
                new Row(Stage.REENCRYPT_REQUEST, false, false, false, false, LeaderAction.CARRY_OUT_REQUEST),
                new Row(Stage.REENCRYPT_ACTIVE, true, false, false, false, LeaderAction.NOTHING),
                new Row(Stage.REENCRYPT_ACTIVE, false, false, false, false, LeaderAction.RESUME_ORPHANED_RUN),
                new Row(Stage.REENCRYPT_FINISHED, false, true, true, true, LeaderAction.REWRITE_RETIRED_WRITERS),
                new Row(Stage.START, false, false, true, true, LeaderAction.ROTATE_ON_SCHEDULE),
                new Row(Stage.START, false, false, true, false, LeaderAction.COUNT_VALUES),
                new Row(Stage.PREPARE, false, true, true, false, LeaderAction.FINISH_ROTATION),
                new Row(Stage.ROTATE, false, false, false, false, LeaderAction.NOTHING))) {
            assertEquals(r.expected(), LeaderAction.decide(r.stage(), r.runnerAlive(), r.retiredWriter(), r.scheduled(),
                    r.due()), r.toString());
        }
    }

    @Test
    void theScheduleIsDueOnceTheLastRotationIsOldEnoughAndOnlyWithEveryServerVouchedForByItsApiserver() {
        Schedule weekly = new Schedule(Optional.of(Duration.ofDays(7)));
        Instant lastWeek = NOW.minus(Duration.ofDays(7));
        assertInstanceOf(Schedule.Check.Off.class, new Schedule(Optional.empty()).check(Optional.of(lastWeek), NOW, NOW,
                List.of("a"), List.of()));
        assertEquals(new Schedule.Check.NotDue(lastWeek.plus(Duration.ofDays(8))), weekly.check(Optional.of(lastWeek
                .plus(Duration.ofDays(1))), NOW, NOW, List.of("a"), List.of()));
        assertInstanceOf(Schedule.Check.Due.class, weekly.check(Optional.of(lastWeek), NOW, NOW, List.of("a", "b"),
                List.of()));
        Schedule.Check waits = weekly.check(Optional.empty(), NOW.minus(Duration.ofDays(8)), NOW, List.of("a", "b"),
                List.of("b"));
        assertTrue(((Schedule.Check.Waits) waits).why().contains("b report(s) not from a running agent"), waits.toString());
    }

    @Test
    void anAgentReportsAgainWheneverTheStoredReportIsNotExactlyItsOwn() {
        NodeReport wanted = new NodeReport("node-1", Stage.ROTATE, new ConfigHash("a".repeat(64)));
        AgentReport.Stored mine = new AgentReport.Stored(wanted, true, Optional.of("apiserver-x"));
        assertFalse(AgentReport.mustWrite(Optional.of(mine), wanted, "apiserver-x", true));
        assertTrue(AgentReport.mustWrite(Optional.of(mine), wanted, "apiserver-x", false), "not yet since it started");
        assertTrue(AgentReport.mustWrite(Optional.of(new AgentReport.Stored(wanted, false, Optional.of("apiserver-x"))),
                wanted, "apiserver-x", true), "a sync by hand put a file report there");
        assertTrue(AgentReport.mustWrite(Optional.of(new AgentReport.Stored(wanted.asStale(), true,
                Optional.of("apiserver-x"))), wanted, "apiserver-x", true), "its lease lapsed");
        assertTrue(AgentReport.mustWrite(Optional.of(new AgentReport.Stored(wanted, true, Optional.empty())), wanted,
                "apiserver-x", true), "a report from before reports named their apiserver");
        assertTrue(AgentReport.mustWrite(Optional.empty(), wanted, "apiserver-x", true), "forgotten");
    }
}
