package dev.secretsencrypt.store;

/**
 * What answers at the endpoints: etcd itself, or kine (K3s' etcd API over SQLite, PostgreSQL or MySQL), which takes
 * single-key transactions only and keeps leases as a time to live. Found out by asking ({@link EtcdCalls#kind()}),
 * never from a version string (kine reports an etcd version).
 */
enum DatastoreKind {
    ETCD("etcd"), KINE("kine");

    private final String text;

    DatastoreKind(String text) {
        this.text = text;
    }

    /** The name messages use for it. */
    String text() {
        return text;
    }
}
