package dev.secretsencrypt.rotation;

import dev.secretsencrypt.config.KeyRef;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.secretsencrypt.config.EncryptionConfig;
import dev.secretsencrypt.config.IdentityProvider;
import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.config.KmsProvider;
import dev.secretsencrypt.config.Provider;
import dev.secretsencrypt.config.ProviderType;
import dev.secretsencrypt.config.ResourceRule;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("unit")
class RotationTest {
    static final Instant NOW = Instant.parse("2026-11-22T10:54:38.123Z");
    final Rotation rules = new Rotation(Clock.fixed(NOW, ZoneOffset.UTC), new SecureRandom());

    static final Key OLD = Key.generate("aescbckey", new byte[32]);
    static final ResourceRule CONFIGMAPS = new ResourceRule(List.of("configmaps"), List.of(new IdentityProvider()));

    static RotationState state(Stage stage, Provider... providers) {
        return new RotationState(stage, EncryptionConfig.of(List.of(
                new ResourceRule(List.of("secrets"), List.of(providers)), CONFIGMAPS)), Optional.empty());
    }

    static RotationState changed(Outcome o) {
        return assertInstanceOf(Outcome.Changed.class, o).next();
    }

    static String refused(Outcome o) {
        return assertInstanceOf(Outcome.Refused.class, o).reason();
    }

    static List<Provider> providers(RotationState s) {
        return Rotation.keysOf(s.config()).providers();
    }

    @Test
    void enableWithNothingStoredCreatesOneAescbcKeyThatEncryptsAndKeepsIdentityForPlaintextReads() {
        RotationState s = changed(rules.enable(Optional.empty(), ProviderType.AESCBC, Set.of()));
        assertEquals(Stage.START, s.stage());
        KeyedProvider aescbc = assertInstanceOf(KeyedProvider.class, providers(s).get(0));
        assertEquals(ProviderType.AESCBC, aescbc.type());
        assertEquals("aescbckey", aescbc.keys().get(0).name());
        assertEquals(32, aescbc.keys().get(0).secretBytes().length);
        assertInstanceOf(IdentityProvider.class, providers(s).get(1));
        assertEquals(List.of("secrets"), s.config().resources().get(0).resources());
    }

    @Test
    void enableMovesIdentityToTheEndAndKeepsEverySecondaryProvider() {
        KeyedProvider gcm = new KeyedProvider(ProviderType.AESGCM, List.of(Key.generate("g", new byte[16])));
        RotationState disabled = state(Stage.ROTATE, new IdentityProvider(), new KeyedProvider(ProviderType.AESCBC,
                List.of(OLD)), gcm);
        RotationState s = changed(rules.enable(Optional.of(disabled), ProviderType.AESCBC, Set.of()));
        assertEquals(List.of(new KeyedProvider(ProviderType.AESCBC, List.of(OLD)), gcm, new IdentityProvider()),
                providers(s));
        assertEquals(Stage.ROTATE, s.stage());
        assertEquals(CONFIGMAPS, s.config().resources().get(1));
    }

    @Test
    void enableWhenAlreadyEnabledChangesNothing() {
        RotationState on = state(Stage.START, new KeyedProvider(ProviderType.AESCBC, List.of(OLD)), new IdentityProvider());
        assertEquals(on, changed(rules.enable(Optional.of(on), ProviderType.AESCBC, Set.of())));
    }

    @Test
    void enableOnAnIdentityOnlyConfigCreatesTheFirstKey() {
        RotationState s = changed(rules.enable(Optional.of(state(Stage.START, new IdentityProvider())),
                ProviderType.SECRETBOX, Set.of()));
        KeyedProvider box = assertInstanceOf(KeyedProvider.class, providers(s).get(0));
        assertEquals("secretboxkey", box.keys().get(0).name());
        assertInstanceOf(IdentityProvider.class, providers(s).get(1));
    }

    @Test
    void disableMovesIdentityFirstAndKeepsEveryKeyForReading() {
        RotationState on = state(Stage.START, new KeyedProvider(ProviderType.AESCBC, List.of(OLD)), new IdentityProvider());
        RotationState s = changed(rules.disable(Optional.of(on)));
        assertEquals(List.of(new IdentityProvider(), new KeyedProvider(ProviderType.AESCBC, List.of(OLD))), providers(s));
        assertFalse(Rotation.keysOf(s.config()).isEnabled());
        assertTrue(refused(rules.disable(Optional.empty())).contains("nothing to disable"));
    }

    @Test
    void prepareAppendsATimestampedKeyLastSoEveryServerCanReadWithItBeforeAnyWrites() {
        RotationState on = state(Stage.START, new KeyedProvider(ProviderType.AESCBC, List.of(OLD)), new IdentityProvider());
        RotationState s = changed(rules.prepare(Optional.of(on), Optional.empty(), false, Set.of()));
        assertEquals(Stage.PREPARE, s.stage());
        KeyedProvider aescbc = (KeyedProvider) providers(s).get(0);
        assertEquals(List.of("aescbckey", "aescbckey-2026-11-22T10:54:38Z"),
                aescbc.keys().stream().map(Key::name).toList());
        assertEquals(Optional.of(new KeyRef(ProviderType.AESCBC, "aescbckey-2026-11-22T10:54:38Z")), s.prepared());
        assertEquals(Optional.of(new KeyRef(ProviderType.AESCBC, "aescbckey")), Rotation.keysOf(s.config()).activeKey());
    }

    @Test
    void prepareIsRefusedMidRotationUnlessForced() {
        RotationState mid = state(Stage.ROTATE, new KeyedProvider(ProviderType.AESCBC, List.of(OLD)));
        String reason = refused(rules.prepare(Optional.of(mid), Optional.empty(), false, Set.of()));
        assertTrue(reason.contains("the current stage is rotate"), reason);
        assertTrue(reason.contains("-f"), reason);
        assertEquals(Stage.PREPARE, changed(rules.prepare(Optional.of(mid), Optional.empty(), true, Set.of())).stage());
        assertEquals(Stage.PREPARE, changed(rules.prepare(Optional.of(mid.withStage(Stage.REENCRYPT_FINISHED)),
                Optional.empty(), false, Set.of())).stage());
    }

    @Test
    void prepareKeepsTheTypeThatEncryptsNowUnlessAnotherIsAskedFor() {
        KeyedProvider gcm = new KeyedProvider(ProviderType.AESGCM, List.of(Key.generate("g", new byte[32])));
        RotationState s = changed(rules.prepare(Optional.of(state(Stage.START, gcm)), Optional.empty(), false, Set.of()));
        assertEquals("aesgcmkey-2026-11-22T10:54:38Z", ((KeyedProvider) providers(s).get(0)).keys().get(1).name());
    }

    @Test
    void switchingTypeAddsAProviderThatReadsFirstAndWritesOnlyAfterRotate() {
        RotationState on = state(Stage.START, new KeyedProvider(ProviderType.AESCBC, List.of(OLD)), new IdentityProvider());
        RotationState prepared = changed(rules.prepare(Optional.of(on), Optional.of(ProviderType.SECRETBOX), false, Set.of()));
        assertEquals(ProviderType.AESCBC, ((KeyedProvider) providers(prepared).get(0)).type());
        assertEquals(ProviderType.SECRETBOX, ((KeyedProvider) providers(prepared).get(1)).type());
        RotationState rotated = changed(rules.rotate(Optional.of(prepared), false));
        assertEquals(List.of(ProviderType.SECRETBOX, ProviderType.AESCBC), providers(rotated).stream()
                .filter(p -> p instanceof KeyedProvider).map(p -> ((KeyedProvider) p).type()).toList());
        assertInstanceOf(IdentityProvider.class, providers(rotated).get(2));
    }

    @Test
    void rotateMakesThePreparedKeyActiveAndKeepsTheOldOneForReading() {
        RotationState on = state(Stage.START, new KeyedProvider(ProviderType.AESCBC, List.of(OLD)), new IdentityProvider());
        RotationState s = changed(rules.rotate(Optional.of(changed(rules.prepare(Optional.of(on), Optional.empty(),
                false, Set.of()))), false));
        assertEquals(Stage.ROTATE, s.stage());
        assertEquals(List.of("aescbckey-2026-11-22T10:54:38Z", "aescbckey"),
                ((KeyedProvider) providers(s).get(0)).keys().stream().map(Key::name).toList());
    }

    @Test
    void rotateIsRefusedBeforePrepareAndForceCannotInventAPreparedKey() {
        RotationState on = state(Stage.START, new KeyedProvider(ProviderType.AESCBC, List.of(OLD)));
        assertTrue(refused(rules.rotate(Optional.of(on), false)).contains("run prepare first"));
        assertTrue(refused(rules.rotate(Optional.of(on), true)).contains("no prepared key"));
        assertTrue(refused(rules.rotate(Optional.empty(), true)).contains("run enable"));
    }

    @Test
    void rotatingWhileDisabledKeepsIdentityFirst() {
        RotationState off = state(Stage.START, new IdentityProvider(), new KeyedProvider(ProviderType.AESCBC, List.of(OLD)));
        RotationState s = changed(rules.rotate(Optional.of(changed(rules.prepare(Optional.of(off), Optional.empty(),
                false, Set.of()))), false));
        assertInstanceOf(IdentityProvider.class, providers(s).get(0));
        assertEquals("aescbckey-2026-11-22T10:54:38Z", ((KeyedProvider) providers(s).get(1)).keys().get(0).name());
    }

    @Test
    void kmsKeysAreThePluginsAndAreNeverRotatedHere() {
        RotationState kms = state(Stage.START, new KmsProvider("v2", "vault", "unix:///kms.sock", null, null),
                new KeyedProvider(ProviderType.AESCBC, List.of(OLD)));
        assertTrue(refused(rules.prepare(Optional.of(kms), Optional.empty(), false, Set.of())).contains("KMS plugin"));
        assertTrue(refused(rules.rotate(Optional.of(kms.withStage(Stage.PREPARE)), false)).contains("KMS"));
    }

    @Test
    void twoPreparesInOneSecondDoNotMakeTwoKeysOfOneName() {
        RotationState on = state(Stage.START, new KeyedProvider(ProviderType.AESCBC, List.of(OLD)));
        RotationState once = changed(rules.prepare(Optional.of(on), Optional.empty(), false, Set.of()));
        RotationState twice = changed(rules.prepare(Optional.of(once), Optional.empty(), true, Set.of()));
        List<String> names = ((KeyedProvider) providers(twice).get(0)).keys().stream().map(Key::name).toList();
        assertEquals(3, new java.util.HashSet<>(names).size(), names.toString());
        assertEquals(once.prepared().orElseThrow().name() + "-2", twice.prepared().orElseThrow().name());
    }

    @Test
    void theRuleForSecretsIsFoundAsKubeApiserverFindsItAndAConfigWithoutOneIsRefused() {
        ResourceRule wildcard = new ResourceRule(List.of("*.*"), List.of(new KeyedProvider(ProviderType.AESCBC,
                List.of(OLD))));
        EncryptionConfig config = EncryptionConfig.of(List.of(CONFIGMAPS, wildcard));
        assertEquals(wildcard, config.secretsRule().orElseThrow(), "configmaps' rule is not the one for Secrets");
        RotationState uncovered = new RotationState(Stage.START, EncryptionConfig.of(List.of(CONFIGMAPS)),
                Optional.empty());
        assertTrue(refused(rules.prepare(Optional.of(uncovered), Optional.empty(), false, Set.of())).contains("no rule"));
        assertTrue(refused(rules.enable(Optional.of(uncovered), ProviderType.AESCBC, Set.of())).contains("covers secrets"));
    }

    @Test
    void aNewKeyNeverTakesARetiredKeysName() {
        RotationState identityOnly = state(Stage.REENCRYPT_FINISHED, new IdentityProvider());
        RotationState s = changed(rules.enable(Optional.of(identityOnly), ProviderType.AESCBC, Set.of("aescbckey")));
        assertEquals("aescbckey-2", ((KeyedProvider) providers(s).get(0)).keys().get(0).name());
        assertEquals("aescbckey-2", ((KeyedProvider) providers(changed(rules.enable(Optional.empty(), ProviderType.AESCBC,
                Set.of("aescbckey")))).get(0)).keys().get(0).name());
    }

    @Test
    void keyTextNeverShowsTheSecret() {
        assertFalse(OLD.toString().contains(OLD.secret()));
    }

    static final Key NEWER = Key.generate("aescbckey-2026-11-22T10:54:38Z", new byte[32]);
    static final KeyRef OLD_REF = new KeyRef(ProviderType.AESCBC, OLD.name());
    static final KeyRef NEWER_REF = new KeyRef(ProviderType.AESCBC, NEWER.name());

    static List<String> names(Retirement r) {
        return r.retired().stream().map(x -> x.key().name()).toList();
    }

    @Test
    void retireTakesOutAnOldKeyNoStoredValueUsesAndNeverTheActiveOne() {
        RotationState rotated = state(Stage.REENCRYPT_ACTIVE, new KeyedProvider(ProviderType.AESCBC, List.of(NEWER, OLD)),
                new IdentityProvider());
        Retirement r = Reencrypt.retire(rotated, new KeyUsage(java.util.Map.of(NEWER_REF, 5L), 0, true));
        assertEquals(List.of("aescbckey"), names(r));
        assertEquals(List.of(NEWER), ((KeyedProvider) providers(r.next()).get(0)).keys());
        assertEquals(CONFIGMAPS, r.next().config().resources().get(1), "other rules kept as they were");
        Retirement activeUnused = Reencrypt.retire(rotated, new KeyUsage(java.util.Map.of(), 0, true));
        assertEquals(List.of("aescbckey"), names(activeUnused), "the active key stays even with no value under it");
    }

    @Test
    void retireKeepsAKeyWithAStoredValue() {
        RotationState rotated = state(Stage.REENCRYPT_ACTIVE, new KeyedProvider(ProviderType.AESCBC, List.of(NEWER, OLD)));
        Retirement r = Reencrypt.retire(rotated, new KeyUsage(java.util.Map.of(OLD_REF, 1L), 0, true));
        assertTrue(r.retired().isEmpty());
        assertEquals(rotated, r.next());
    }

    @Test
    void retireNeverTakesThePreparedKeyWhateverTheFlags() {
        RotationState prepared = changed(rules.prepare(Optional.of(state(Stage.START,
                new KeyedProvider(ProviderType.AESCBC, List.of(OLD)))), Optional.empty(), false, Set.of()));
        Retirement r = Reencrypt.retire(prepared, new KeyUsage(java.util.Map.of(OLD_REF, 3L), 0, true));
        assertTrue(r.retired().isEmpty(), "the prepared key has no value yet, and must stay: " + names(r));
    }

    @Test
    void nothingIsRetiredAfterAnIncompleteScanOrOneThatMetAnUnreadableValue() {
        RotationState rotated = state(Stage.REENCRYPT_ACTIVE, new KeyedProvider(ProviderType.AESCBC, List.of(NEWER, OLD)));
        assertTrue(Reencrypt.retire(rotated, KeyUsage.incomplete()).retired().isEmpty());
        assertTrue(Reencrypt.retire(rotated, new KeyUsage(java.util.Map.of(), 1, true)).retired().isEmpty());
    }

    @Test
    void reencryptStartsFromRotateOrARequestOrAnOrphanedRunAndOtherwiseOnlyWithForce() {
        KeyedProvider keys = new KeyedProvider(ProviderType.AESCBC, List.of(NEWER, OLD));
        for (Stage from : List.of(Stage.ROTATE, Stage.REENCRYPT_REQUEST, Stage.REENCRYPT_ACTIVE)) {
            assertEquals(Stage.REENCRYPT_ACTIVE, changed(Reencrypt.startReencrypt(state(from, keys), false, Reencrypt.RetiredWriterFound.NO)).stage());
        }
        assertEquals(Stage.REENCRYPT_REQUEST, changed(Reencrypt.requestReencrypt(state(Stage.ROTATE, keys), false, Reencrypt.RetiredWriterFound.NO)).stage());
        String refused = refused(Reencrypt.startReencrypt(state(Stage.PREPARE, keys), false, Reencrypt.RetiredWriterFound.NO));
        assertEquals("reencrypt needs stage rotate, the current stage is prepare: restart every kube-apiserver (or run "
                + "sync on every server), then run rotate (or -f to skip this check)", refused);
        assertEquals(Stage.REENCRYPT_ACTIVE, changed(Reencrypt.startReencrypt(state(Stage.PREPARE, keys), true, Reencrypt.RetiredWriterFound.NO)).stage());
        RotationState noSecrets = new RotationState(Stage.ROTATE, EncryptionConfig.of(List.of(CONFIGMAPS)),
                Optional.empty());
        assertTrue(refused(Reencrypt.startReencrypt(noSecrets, true, Reencrypt.RetiredWriterFound.NO)).startsWith("no rule of the encryption config covers"));
    }

    @Test
    void aRetiredWriterFoundOnAServerStartsARunFromStartOrReencryptFinishedWithoutForce() {
        KeyedProvider one = new KeyedProvider(ProviderType.AESCBC, List.of(NEWER));
        for (Stage from : List.of(Stage.START, Stage.REENCRYPT_FINISHED)) {
            assertInstanceOf(Outcome.AlreadyDone.class, from == Stage.START ? new Outcome.AlreadyDone("")
                    : Reencrypt.startReencrypt(state(from, one), false, Reencrypt.RetiredWriterFound.NO));
            assertEquals(Stage.REENCRYPT_ACTIVE, changed(Reencrypt.startReencrypt(state(from, one), false,
                    Reencrypt.RetiredWriterFound.YES)).stage(), from.text());
        }
        // mid-rotation the stage order still holds: prepare is not a stage to rewrite values from
        assertTrue(refused(Reencrypt.startReencrypt(state(Stage.PREPARE, one), false, Reencrypt.RetiredWriterFound.YES))
                .startsWith("reencrypt needs stage rotate"));
    }

    @Test
    void oldKeysInUseAreEveryKeyButTheActiveAndPreparedOneWithAValueRetiredOnesIncluded() {
        RotationState rotated = state(Stage.REENCRYPT_ACTIVE, new KeyedProvider(ProviderType.AESCBC, List.of(NEWER, OLD)));
        KeyRef retired = new KeyRef(ProviderType.AESCBC, "aescbckey-retired");
        assertEquals(java.util.Map.of(OLD_REF, 3L, retired, 1L), Reencrypt.oldKeysInUse(rotated, new KeyUsage(
                java.util.Map.of(NEWER_REF, 10L, OLD_REF, 3L, retired, 1L), 0, true)));
        assertTrue(Reencrypt.oldKeysInUse(rotated, new KeyUsage(java.util.Map.of(NEWER_REF, 10L, OLD_REF, 0L), 0, true))
                .isEmpty());
    }

    @Test
    void aFinishedRunEndsInReencryptFinishedUnlessItWasForcedFromStartOrPrepare() {
        RotationState active = state(Stage.REENCRYPT_ACTIVE, new KeyedProvider(ProviderType.AESCBC, List.of(NEWER, OLD)));
        assertEquals(Stage.REENCRYPT_FINISHED, changed(Reencrypt.finishReencrypt(active, Stage.ROTATE)).stage());
        assertEquals(Stage.PREPARE, changed(Reencrypt.finishReencrypt(active, Stage.PREPARE)).stage());
        assertEquals(Stage.START, changed(Reencrypt.finishReencrypt(active, Stage.START)).stage());
        assertEquals(Stage.ROTATE, changed(Reencrypt.returnFromReencrypt(active, Stage.ROTATE)).stage());
        assertEquals(active.config(), changed(Reencrypt.finishReencrypt(active, Stage.ROTATE)).config(), "keys untouched");
    }

    /** Where each stage stands after the real steps, so the prepared key is there when the stage says so. */
    java.util.Map<Stage, RotationState> everyStage() {
        RotationState start = state(Stage.START, new KeyedProvider(ProviderType.AESCBC, List.of(OLD)), new IdentityProvider());
        Rotation anHourAgo = new Rotation(Clock.fixed(NOW.minusSeconds(3600), ZoneOffset.UTC), new SecureRandom());
        RotationState prepare = changed(anHourAgo.prepare(Optional.of(start), Optional.empty(), false, Set.of()));
        RotationState rotate = changed(anHourAgo.rotate(Optional.of(prepare), false));
        RotationState finished = Reencrypt.retire(rotate.withStage(Stage.REENCRYPT_FINISHED),
                new KeyUsage(java.util.Map.of(), 0, true)).next();
        return java.util.Map.of(Stage.START, start, Stage.PREPARE, prepare, Stage.ROTATE, rotate,
                Stage.REENCRYPT_REQUEST, rotate.withStage(Stage.REENCRYPT_REQUEST),
                Stage.REENCRYPT_ACTIVE, rotate.withStage(Stage.REENCRYPT_ACTIVE), Stage.REENCRYPT_FINISHED, finished);
    }

    /**
     * C: goes ahead (a new state, or a re-encryption resumed); D: already done (exit 0, nothing written; enable and
     * disable say so with their state unchanged); R: refused, naming what comes next.
     */
    static String kind(Optional<RotationState> before, Outcome o, boolean unchangedIsDone) {
        if (o instanceof Outcome.Refused) {
            return "R";
        }
        if (o instanceof Outcome.AlreadyDone) {
            return "D";
        }
        return unchangedIsDone && before.equals(Optional.of(((Outcome.Changed) o).next())) ? "D" : "C";
    }

    @Test
    void everyCommandInEveryStageChangesIsAlreadyDoneOrIsRefusedNamingWhatReallyComesNext() {
        List<String> commands = List.of("enable", "disable", "prepare", "rotate", "reencrypt");
        // one row per stage, one column per command above
        java.util.Map<Stage, String> expected = java.util.Map.of(
                Stage.START, "DCCRR",
                Stage.PREPARE, "DCRCR",
                Stage.ROTATE, "DCRDC",
                Stage.REENCRYPT_REQUEST, "DCRDC",
                Stage.REENCRYPT_ACTIVE, "DCRDC",
                Stage.REENCRYPT_FINISHED, "DCCRD");
        int cells = 0;
        for (java.util.Map.Entry<Stage, RotationState> e : everyStage().entrySet()) {
            Optional<RotationState> s = Optional.of(e.getValue());
            List<Outcome> outcomes = List.of(rules.enable(s, ProviderType.AESCBC, Set.of()), rules.disable(s),
                    rules.prepare(s, Optional.empty(), false, Set.of()), rules.rotate(s, false),
                    Reencrypt.startReencrypt(e.getValue(), false, Reencrypt.RetiredWriterFound.NO));
            StringBuilder got = new StringBuilder();
            for (int i = 0; i < outcomes.size(); i++) {
                Outcome o = outcomes.get(i);
                got.append(kind(s, o, i < 2));
                String said = o instanceof Outcome.Refused r ? r.reason() : o instanceof Outcome.AlreadyDone d
                        ? d.summary() : ((Outcome.Changed) o).summary();
                if (!(o instanceof Outcome.Changed c) || !c.next().equals(e.getValue())) {
                    assertFalse(said.isBlank(), commands.get(i) + " in " + e.getKey());
                }
                if (o instanceof Outcome.Refused r && !(e.getKey() == Stage.REENCRYPT_FINISHED && i == 4)) {
                    assertTrue(r.reason().contains(Rotation.nextStep(e.getKey())), commands.get(i) + " in "
                            + e.getKey() + " must name what comes next: " + r.reason());
                }
                cells++;
            }
            assertEquals(expected.get(e.getKey()), got.toString(), "stage " + e.getKey() + ", commands " + commands);
        }
        assertEquals(30, cells);
        assertEquals("restart every kube-apiserver (or run sync on every server), then run rotate",
                Rotation.nextStep(Stage.PREPARE));
    }
}
