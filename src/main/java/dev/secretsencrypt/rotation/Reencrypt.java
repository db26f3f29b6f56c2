package dev.secretsencrypt.rotation;

import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.KeyRef;
import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.config.Provider;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * The re-encryption's stage rules and key retirement: pure functions from a state to a new state or a refusal, as
 * {@link Rotation}'s are for the stages before.
 */
public final class Reencrypt {
    // The stages a re-encryption starts from without -f: after rotate, or a request or an orphaned run to resume.
    private static final Set<Stage> REENCRYPT_STARTS = EnumSet.of(Stage.ROTATE, Stage.REENCRYPT_REQUEST,
            Stage.REENCRYPT_ACTIVE);

    private Reencrypt() {
    }

    /** Whether stored values may be under a retired key: a server was found with one as its writer. */
    public enum RetiredWriterFound { YES, NO }

    /** Records a re-encryption for a later run: stage reencrypt_request. */
    public static Outcome requestReencrypt(RotationState s, boolean force, RetiredWriterFound found) {
        return reencryptFrom(s, force, found, Stage.REENCRYPT_REQUEST, "re-encryption requested");
    }

    /**
     * A run takes over: stage reencrypt_active, from rotate, a request, or an orphaned run it resumes; and from start
     * or reencrypt_finished, without -f, when a server was found writing with a retired key: those values must be
     * rewritten before anything else (they are read through the retired key).
     */
    public static Outcome startReencrypt(RotationState s, boolean force, RetiredWriterFound found) {
        return reencryptFrom(s, force, found, Stage.REENCRYPT_ACTIVE, "re-encryption running");
    }

    private static Outcome reencryptFrom(RotationState s, boolean force, RetiredWriterFound found, Stage next,
                                         String summary) {
        if (s.config().secretsRule().isEmpty()) {
            return new Outcome.Refused("no rule of the encryption config covers secrets, so there are no keys to "
                    + "re-encrypt from: add one (resources: [secrets]) with enable, then run reencrypt");
        }
        if (found == RetiredWriterFound.YES && EnumSet.of(Stage.START, Stage.REENCRYPT_FINISHED).contains(s.stage())) {
            return new Outcome.Changed(s.withStage(next), summary + " (values a server wrote with a retired key)");
        }
        if (!force && s.stage() == Stage.REENCRYPT_FINISHED && Rotation.keysOf(s.config()).keyCount() <= 1) {
            return new Outcome.AlreadyDone("re-encryption already finished: every old key was retired, nothing to do; "
                    + "run prepare to start the next rotation");
        }
        if (!force && s.stage() == Stage.REENCRYPT_FINISHED) {
            return new Outcome.Refused("reencrypt needs stage rotate, the current stage is reencrypt_finished: the old "
                    + "keys left in the config were still used by stored values when the last run ended; run reencrypt -f "
                    + "to rewrite those values and retire the keys, or run prepare to start the next rotation");
        }
        if (!force && !REENCRYPT_STARTS.contains(s.stage())) {
            return Rotation.wrongStage("reencrypt", s.stage(), "rotate");
        }
        return new Outcome.Changed(s.withStage(next), summary);
    }

    /**
     * A finished run: reencrypt_finished, unless it was forced from start or prepare. Then it goes back there: it
     * rewrote values, but the rotation it did not finish must be able to go on (rotate needs its prepared key and stage).
     */
    public static Outcome finishReencrypt(RotationState s, Stage startedFrom) {
        Stage end = startedFrom == Stage.START || startedFrom == Stage.PREPARE ? startedFrom : Stage.REENCRYPT_FINISHED;
        return new Outcome.Changed(s.withStage(end), "stage " + end.text());
    }

    /** A run that failed, or one that removes no key (--skip): back to the stage it started from. */
    public static Outcome returnFromReencrypt(RotationState s, Stage startedFrom) {
        return new Outcome.Changed(s.withStage(startedFrom), "stage back to " + startedFrom.text());
    }

    /**
     * Takes out of the Secrets rule every key no stored value uses, as Tink's {@code delete} guards its own invariants:
     * the active key and the prepared key are never retired, whatever the flags; a key with a stored value is never
     * retired; nothing is retired after a scan that was incomplete or met a value no key reads. The stage is left to
     * the caller. Empty {@code retired} means nothing to retire.
     */
    public static Retirement retire(RotationState s, KeyUsage usage) {
        if (!usage.complete() || usage.unreadable() > 0) {
            return new Retirement(s, List.of());
        }
        KeyList keys = Rotation.keysOf(s.config());
        Optional<KeyRef> active = keys.activeKey();
        List<Provider> kept = new ArrayList<>();
        List<Retirement.Retired> retired = new ArrayList<>();
        for (Provider p : keys.providers()) {
            if (!(p instanceof KeyedProvider k)) {
                kept.add(p);
                continue;
            }
            List<Key> stay = new ArrayList<>();
            for (Key key : k.keys()) {
                KeyRef ref = new KeyRef(k.type(), key.name());
                boolean protectedKey = active.equals(Optional.of(ref)) || s.prepared().equals(Optional.of(ref));
                if (protectedKey || usage.of(ref) > 0) {
                    stay.add(key);
                } else {
                    retired.add(new Retirement.Retired(k.type(), key));
                }
            }
            if (!stay.isEmpty()) {
                kept.add(k.withKeys(stay));
            }
        }
        if (retired.isEmpty()) {
            return new Retirement(s, List.of());
        }
        return new Retirement(new RotationState(s.stage(), Rotation.withKeys(s.config(), new KeyList(kept)), s.prepared()), retired);
    }

    /**
     * The keys other than the active and the prepared one that a scan found values under, retired (archived) ones
     * included: after a clean pass, each is a key some kube-apiserver wrote with since the pass went by.
     */
    public static Map<KeyRef, Long> oldKeysInUse(RotationState s, KeyUsage usage) {
        Optional<KeyRef> active = Rotation.keysOf(s.config()).activeKey();
        Map<KeyRef, Long> out = new TreeMap<>(Comparator.comparing(KeyRef::toString));
        usage.valuesPerKey().forEach((key, n) -> {
            if (n > 0 && !active.equals(Optional.of(key)) && !s.prepared().equals(Optional.of(key))) {
                out.put(key, n);
            }
        });
        return out;
    }

}
