package dev.secretsencrypt.reencrypt;

/** Told after every completed page, in key order; throwing stops the pass at once (a lost lease, say). */
@FunctionalInterface
public interface PassListener {
    void progress(Checkpoint checkpoint) throws Exception;
}
