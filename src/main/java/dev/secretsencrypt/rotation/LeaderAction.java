package dev.secretsencrypt.rotation;

/**
 * What the agents' leader does at one look at the state, pure: carry out a requested re-encryption, resume one whose
 * runner is gone, rewrite what a server wrote with a retired key, rotate on schedule or finish a rotation under way,
 * or count the stored values per key after a finished rotation. The use cases it then calls keep their own refusals.
 */
public enum LeaderAction {
    CARRY_OUT_REQUEST, RESUME_ORPHANED_RUN, REWRITE_RETIRED_WRITERS, ROTATE_ON_SCHEDULE, FINISH_ROTATION, COUNT_VALUES,
    NOTHING;

    /**
     * {@code runnerAlive}: a pass's owner lease is held; {@code retiredWriterFound}: a server was found with a retired
     * key as its writer since the last clean pass; {@code scheduled}: the agents rotate on a schedule; {@code due}: it
     * is due now ({@link Schedule}).
     */
    public static LeaderAction decide(Stage stage, boolean runnerAlive, boolean retiredWriterFound, boolean scheduled,
                                      boolean due) {
        return switch (stage) {
            case REENCRYPT_REQUEST -> CARRY_OUT_REQUEST;
            case REENCRYPT_ACTIVE -> runnerAlive ? NOTHING : RESUME_ORPHANED_RUN;
            // values a retired key wrote are read by no kube-apiserver: they come before a new rotation
            case START, REENCRYPT_FINISHED -> retiredWriterFound ? REWRITE_RETIRED_WRITERS
                    : due ? ROTATE_ON_SCHEDULE : COUNT_VALUES;
            case PREPARE, ROTATE -> scheduled ? FINISH_ROTATION : NOTHING;
        };
    }
}
