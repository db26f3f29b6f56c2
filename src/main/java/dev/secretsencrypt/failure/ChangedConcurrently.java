package dev.secretsencrypt.failure;

/** Another command changed the rotation state between this command's read and its write. */
public final class ChangedConcurrently extends OperatorError {
    private static final long serialVersionUID = 1L;

    public ChangedConcurrently(String where) {
        super("the rotation state in " + where + " changed under this command (another secrets-encrypt command "
                + "ran at the same time); nothing was written: run status and try again");
    }
}
