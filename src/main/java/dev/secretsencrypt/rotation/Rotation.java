package dev.secretsencrypt.rotation;

import dev.secretsencrypt.config.KeyRef;
import dev.secretsencrypt.config.EncryptionConfig;
import dev.secretsencrypt.config.IdentityProvider;
import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.KeyedProvider;
import dev.secretsencrypt.config.ProviderType;
import dev.secretsencrypt.config.ResourceRule;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * The rotation rules: pure functions from a state to a new state or a refusal. No file, no socket, no clock
 * but the one passed in, so every rule is a plain unit test.
 */
public final class Rotation {
    static final int NEW_KEY_BYTES = 32;
    // enable changes what kube-apiserver writes from its next load of the file; what it stored before stays as it is
    private static final String ENABLED_NEXT = ": restart every kube-apiserver (or let it reload the file), then run "
            + "reencrypt -f --skip to encrypt the Secrets it stored before";

    private final Clock clock;
    private final SecureRandom random;

    public Rotation(Clock clock, SecureRandom random) {
        this.clock = clock;
        this.random = random;
    }

    /**
     * Turns encryption on. With no state, a new config {@code [<type>{<type>key}, identity]}; otherwise identity
     * moves to the end and a key is created only when the rule has none, so existing data stays readable.
     */
    public Outcome enable(Optional<RotationState> current, ProviderType type, Set<String> reservedNames) {
        if (current.isEmpty()) {
            String name = uniqueName(new KeyList(List.of()), type.keyNameBase(), reservedNames);
            ResourceRule rule = new ResourceRule(List.of("secrets"),
                    List.of(new KeyedProvider(type, List.of(newKey(name))), new IdentityProvider()));
            return new Outcome.Changed(new RotationState(Stage.START, EncryptionConfig.of(List.of(rule)),
                    Optional.empty()), "created " + type.field() + " key " + name + " and enabled encryption"
                    + ENABLED_NEXT);
        }
        RotationState s = current.get();
        Optional<Outcome> uncovered = noSecretsRule(s);
        if (uncovered.isPresent()) {
            return uncovered.get();
        }
        KeyList keys = keysOf(s.config());
        KeyList next = keys.withIdentityLast();
        String summary = "enabled encryption";
        if (next.firstKeyed().isEmpty() && next.kmsInCharge().isEmpty()) {
            next = next.withNewProviderFirst(type, newKey(uniqueName(next, type.keyNameBase(), reservedNames)));
            summary = "created " + type.field() + " key and enabled encryption";
        }
        if (next.equals(keys)) {
            return new Outcome.Changed(s, "encryption is already enabled");
        }
        return new Outcome.Changed(withKeys(s, next), summary + ENABLED_NEXT);
    }

    /** Turns encryption off for new writes; every key stays so the data written under it stays readable. */
    public Outcome disable(Optional<RotationState> current) {
        return onConfigured(current, "encryption is not configured here: there is nothing to disable", this::disable);
    }

    private Outcome disable(RotationState s) {
        KeyList keys = keysOf(s.config());
        if (!keys.isEnabled()) {
            return new Outcome.Changed(s, "encryption is already disabled");
        }
        return new Outcome.Changed(withKeys(s, keys.withIdentityFirst()), "disabled encryption (every key kept for "
                + "reading): restart every kube-apiserver (or let it reload the file), then run reencrypt -f --skip to "
                + "decrypt the Secrets stored under the keys");
    }

    /**
     * Adds a new key that every server can read with and none writes with yet. {@code type} empty means the
     * type of the key that writes now, so an aesgcm cluster is not silently switched to aescbc.
     */
    public Outcome prepare(Optional<RotationState> current, Optional<ProviderType> type, boolean force,
                          Set<String> reservedNames) {
        return onConfigured(current, notConfigured("prepare"), s -> prepare(s, type, force, reservedNames));
    }

    private Outcome prepare(RotationState s, Optional<ProviderType> type, boolean force, Set<String> reservedNames) {
        if (!force && !s.stage().isRestingPoint()) {
            return wrongStage("prepare", s.stage(), "start or reencrypt_finished");
        }
        KeyList keys = keysOf(s.config());
        if (keys.kmsInCharge().isPresent()) {
            return kmsRefusal("prepare", keys);
        }
        ProviderType chosen = type.orElse(keys.firstKeyed().map(KeyedProvider::type).orElse(ProviderType.AESCBC));
        // a second prepare within the same second (a quick abort and retry) gets <name>-2: never two keys of one name
        String name = uniqueName(keys, chosen.keyNameBase() + "-" + DateTimeFormatter.ISO_INSTANT.format(
                clock.instant().truncatedTo(ChronoUnit.SECONDS)), reservedNames);
        KeyRef added = new KeyRef(chosen, name);
        RotationState next = new RotationState(Stage.PREPARE, withKeys(s, keys.withKeyAdded(chosen, newKey(name))).config(),
                Optional.of(added));
        return new Outcome.Changed(next, "added key " + added + " for reading", "restart every kube-apiserver, then run "
                + "rotate");
    }

    /** Makes the prepared key the one that writes; the old keys stay for reading until reencrypt retires them. */
    public Outcome rotate(Optional<RotationState> current, boolean force) {
        return onConfigured(current, notConfigured("rotate"), s -> rotate(s, force));
    }

    private Outcome rotate(RotationState s, boolean force) {
        if (!force && ROTATED.contains(s.stage())) {
            return new Outcome.AlreadyDone("the prepared key already encrypts new writes (stage " + s.stage().text()
                    + "): nothing to do; " + nextStep(s.stage()));
        }
        if (!force && s.stage() != Stage.PREPARE) {
            return wrongStage("rotate", s.stage(), "prepare");
        }
        KeyList keys = keysOf(s.config());
        if (keys.kmsInCharge().isPresent()) {
            return kmsRefusal("rotate", keys);
        }
        Optional<KeyRef> prepared = s.prepared().filter(keys::contains);
        if (prepared.isEmpty()) {
            return new Outcome.Refused("there is no prepared key to rotate to: run prepare first");
        }
        RotationState next = new RotationState(Stage.ROTATE, withKeys(s, keys.withKeyActive(prepared.get())).config(),
                Optional.empty());
        return new Outcome.Changed(next, "key " + prepared.get() + " now encrypts new writes", "restart every "
                + "kube-apiserver, then run reencrypt");
    }

    // Where rotate's work is done and the rotation goes on with re-encryption.
    private static final Set<Stage> ROTATED = EnumSet.of(Stage.ROTATE, Stage.REENCRYPT_REQUEST, Stage.REENCRYPT_ACTIVE);

    /** What an operator runs next from a stage: every refusal and every "already done" ends with it. */
    public static String nextStep(Stage stage) {
        return switch (stage) {
            case START, REENCRYPT_FINISHED -> "run prepare first";
            case PREPARE -> "restart every kube-apiserver (or run sync on every server), then run rotate";
            case ROTATE -> "restart every kube-apiserver (or run sync on every server), then run reencrypt";
            case REENCRYPT_REQUEST -> "run reencrypt on any server to carry out the requested re-encryption";
            case REENCRYPT_ACTIVE -> "a re-encryption is under way (status shows it): wait for it, or run reencrypt "
                    + "to resume it if its server is gone";
        };
    }

    public static KeyList keysOf(EncryptionConfig config) {
        return new KeyList(config.secretsRule().map(ResourceRule::providers).orElse(List.of()));
    }

    /** The config with the Secrets rule's providers replaced; every other rule kept as it was. */
    public static EncryptionConfig withKeys(EncryptionConfig config, KeyList keys) {
        ResourceRule target = config.secretsRule().orElseThrow();
        List<ResourceRule> rules = new ArrayList<>(config.resources());
        rules.set(rules.indexOf(target), target.withProviders(keys.providers()));
        return config.withResources(rules);
    }

    private static RotationState withKeys(RotationState s, KeyList keys) {
        return new RotationState(s.stage(), withKeys(s.config(), keys), s.prepared());
    }

    private Key newKey(String name) {
        byte[] secret = new byte[NEW_KEY_BYTES];
        random.nextBytes(secret);
        return Key.generate(name, secret);
    }

    private static String uniqueName(KeyList keys, String base, Set<String> reservedNames) {
        String name = base;
        for (int i = 2; keys.containsKeyNamed(name) || reservedNames.contains(name); i++) {
            name = base + "-" + i;
        }
        return name;
    }

    /** A config whose rules do not cover Secrets has no keys of theirs to change. */
    private static Optional<Outcome> noSecretsRule(RotationState s) {
        return s.config().secretsRule().isPresent() ? Optional.empty() : Optional.of(new Outcome.Refused(
                "no rule of the encryption config covers secrets (resources: secrets, \"*.\" or \"*.*\"): "
                        + "kube-apiserver stores Secrets unencrypted; add such a rule to the file, then run enable"));
    }

    private static String notConfigured(String command) {
        return "encryption is not configured here: run enable before " + command;
    }

    /** The guard every rule on a stored state starts with: there is one, and it has a rule that covers Secrets. */
    private static Outcome onConfigured(Optional<RotationState> current, String whenMissing,
                                        Function<RotationState, Outcome> rule) {
        if (current.isEmpty()) {
            return new Outcome.Refused(whenMissing);
        }
        return noSecretsRule(current.get()).orElseGet(() -> rule.apply(current.get()));
    }

    static Outcome wrongStage(String command, Stage current, String needed) {
        return new Outcome.Refused(command + " needs stage " + needed + ", the current stage is " + current.text()
                + ": " + nextStep(current) + " (or -f to skip this check)");
    }

    private static Outcome kmsRefusal(String command, KeyList keys) {
        return new Outcome.Refused("the encrypting provider is KMS (" + keys.kmsInCharge().get().name()
                + "): its keys live in the KMS plugin, so " + command + " cannot change them; rotate them in the plugin");
    }
}
