package dev.secretsencrypt.testing;

import io.etcd.jetcd.Client;

/** A datastore a test runs the tool against: etcd ({@link EtcdCluster}) or kine over SQLite ({@link Kine}). */
public interface TestDatastore {
    /** The endpoints as {@code --endpoints} takes them. */
    String endpointsCsv();

    /** A client the test may use and must not close. */
    Client client();

    /** Whether it takes transactions over many keys (etcd); kine takes single-key ones only. */
    boolean multiKeyTransactions();
}
