package dev.secretsencrypt.failure;

/** Another node holds the re-encryption lease. */
public final class AlreadyRunning extends OperatorError {
    private static final long serialVersionUID = 1L;

    public AlreadyRunning(String owner, long leaseSeconds) {
        super("a re-encryption is running on " + owner + " (status shows its progress); if that node died, its lease "
                + "expires within " + leaseSeconds + " s: run reencrypt again then to resume from its checkpoint");
    }
}
