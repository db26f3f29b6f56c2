package dev.secretsencrypt.certs;

/** What can be wrong with one certificate, in the words the report prints. */
public enum Flag {
    EXPIRED("expired"),
    NOT_YET_VALID("not yet valid"),
    EXPIRING("expiring"),
    KEY_MISMATCH("key mismatch"),
    CHAIN_BROKEN("chain broken");

    private final String text;

    Flag(String text) {
        this.text = text;
    }

    public String text() {
        return text;
    }
}
