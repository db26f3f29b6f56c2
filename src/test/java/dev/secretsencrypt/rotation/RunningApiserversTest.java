package dev.secretsencrypt.rotation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.rotation.RunningApiservers.Apiserver;
import dev.secretsencrypt.rotation.RunningApiservers.Claim;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class RunningApiserversTest {
    static final Instant NOW = Instant.parse("2026-12-03T10:00:00Z");

    static Apiserver lease(String host, Duration renewedAgo) {
        return new Apiserver("apiserver-" + host, host, Optional.of(NOW.minus(renewedAgo)));
    }

    static Claim claim(String server, String host) {
        return new Claim(server, Optional.of("apiserver-" + host));
    }

    @Test
    void everyRunningApiserverClaimedByAServersReportIsAccounted() {
        RunningApiservers.Verdict v = RunningApiservers.check(List.of(lease("node-1", Duration.ofSeconds(3)),
                lease("node-2", Duration.ofSeconds(8))), List.of(), List.of(claim("node-1", "node-1"),
                claim("node-2", "node-2")), NOW);
        assertTrue(v.everyOneAccounted());
        assertEquals(Optional.empty(), v.problem());
    }

    @Test
    void aForgottenServersApiserverThatStillRunsIsNamedWithItsLeaseAndWhatToDo() {
        RunningApiservers.Verdict v = RunningApiservers.check(List.of(lease("node-1", Duration.ofSeconds(3)),
                lease("node-3", Duration.ofSeconds(5))), List.of(), List.of(claim("node-1", "node-1")), NOW);
        assertEquals(List.of("node-3"), v.unaccounted().stream().map(Apiserver::host).toList());
        String problem = v.problem().orElseThrow();
        assertTrue(problem.startsWith("kube-apiserver on node-3 (identity lease apiserver-node-3, renewed 5 s ago) runs, "
                + "but no registered server reports for it. Run sync on that server"), problem);
        assertTrue(problem.contains("nodes forget that is back registers again with sync"), problem);
    }

    @Test
    void aLeaseNotRenewedForAMinuteBeforeTheNewestRenewalIsAnApiserverThatStopped() {
        RunningApiservers.Verdict v = RunningApiservers.check(List.of(lease("node-1", Duration.ofSeconds(3)),
                lease("node-3", Duration.ofSeconds(64))), List.of(), List.of(claim("node-1", "node-1")), NOW);
        assertTrue(v.everyOneAccounted(), v.toString());
    }

    @Test
    void thisMachinesClockAheadByHoursCannotMakeARunningApiserverLookStopped() {
        // the leases' times are the apiservers' clocks: a server whose clock stepped two hours ahead judges by them
        Instant ahead = NOW.plus(Duration.ofHours(2));
        RunningApiservers.Verdict v = RunningApiservers.check(List.of(lease("node-1", Duration.ofSeconds(3)),
                lease("node-3", Duration.ofSeconds(5))), List.of(), List.of(claim("node-1", "node-1")), ahead);
        assertEquals(List.of("node-3"), v.unaccounted().stream().map(Apiserver::host).toList());
    }

    @Test
    void thisMachinesClockBehindCountsMoreApiserversAsRunningNeverFewer() {
        Instant behind = NOW.minus(Duration.ofHours(2));
        assertEquals(2, RunningApiservers.running(List.of(lease("node-1", Duration.ofSeconds(3)),
                lease("node-3", Duration.ofMinutes(10))), behind).size());
    }

    @Test
    void aReportFromBeforeReportsNamedTheirApiserverClaimsNothingAndIsNamedWithTheFix() {
        RunningApiservers.Verdict v = RunningApiservers.check(List.of(lease("node-2", Duration.ofSeconds(3))),
                List.of(), List.of(new Claim("node-2", Optional.empty())), NOW);
        assertEquals(List.of("node-2"), v.unnamedServers());
        assertTrue(v.problem().orElseThrow().contains("(node-2 reported before reports named it: run sync there)"),
                v.problem().orElseThrow());
    }

    @Test
    void anUnreadableLeaseIsAnApiserverThatCannotBeAccountedFor() {
        RunningApiservers.Verdict v = RunningApiservers.check(List.of(), List.of("/registry/leases/kube-system/apiserver-x"),
                List.of(), NOW);
        assertTrue(v.problem().orElseThrow().startsWith("the identity lease /registry/leases/kube-system/apiserver-x "
                + "cannot be read"), v.problem().orElseThrow());
    }

    @Test
    void twoServersReportingForOneIdentityAreRefusedAsIndistinguishable() {
        RunningApiservers.Verdict v = RunningApiservers.check(List.of(lease("h", Duration.ofSeconds(3))), List.of(),
                List.of(claim("node-1", "h"), claim("node-3", "h")), NOW);
        assertTrue(v.problem().orElseThrow().startsWith("node-1 and node-3 both report for the kube-apiserver of "
                + "identity apiserver-h: two apiservers under one host name cannot be told apart"), v.problem().orElseThrow());
    }

    @Test
    void noLeasesAtAllIsNothingToAccountFor() {
        assertTrue(RunningApiservers.check(List.of(), List.of(), List.of(claim("node-1", "node-1")), NOW)
                .everyOneAccounted());
    }

    @Test
    void stillRunningAsksAboutOneLeaseByName() {
        List<Apiserver> leases = List.of(lease("node-1", Duration.ofSeconds(3)), lease("node-3", Duration.ofSeconds(30)));
        assertEquals("node-3", RunningApiservers.stillRunning(leases, "apiserver-node-3", NOW).orElseThrow().host());
        assertEquals(Optional.empty(), RunningApiservers.stillRunning(List.of(lease("node-1", Duration.ofSeconds(3)),
                lease("node-3", Duration.ofMinutes(2))), "apiserver-node-3", NOW));
    }
}
