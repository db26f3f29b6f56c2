package dev.secretsencrypt.usecase;

/** How a re-encryption was asked for: {@code reencrypt [-f] [--skip] [--async]}, as named choices. */
public record ReencryptRequest(StageCheck stageCheck, Keys keys, When when) {
    /** {@code -f} skips the stage-order check only: retiring a key always needs every server on the current config. */
    public enum StageCheck { REQUIRED, SKIPPED }

    /** {@code --skip} rewrites every value but removes no key. */
    public enum Keys { RETIRE_UNUSED, KEEP_ALL }

    /** {@code --async} only records the request; a later reencrypt on any server carries it out. */
    public enum When { NOW, LATER }

    public static ReencryptRequest now() {
        return new ReencryptRequest(StageCheck.REQUIRED, Keys.RETIRE_UNUSED, When.NOW);
    }
}
