package dev.secretsencrypt.testing;

import io.etcd.jetcd.Client;

/**
 * A datastore a test runs the tool against: etcd ({@link EtcdCluster}) or kine ({@link Kine}, over the SQL
 * database {@code -Dkine.backend} names). Tests tagged {@code datastore} take theirs from {@link #shared()}, so
 * scripts/test.sh runs them on each datastore by {@code -Ddatastore}.
 */
public interface TestDatastore extends AutoCloseable {
    /** The endpoints as {@code --endpoints} takes them. */
    String endpointsCsv();

    /** A client the test may use and must not close. */
    Client client();

    /** Whether it takes transactions over many keys (etcd); kine takes single-key ones only. */
    boolean multiKeyTransactions();

    /** Its name as the tool's messages give it: etcd or kine. */
    default String name() {
        return multiKeyTransactions() ? "etcd" : "kine";
    }

    /** Stops it and removes its data (nothing for a shared one, which lives until the JVM exits). */
    @Override
    void close();

    /**
     * One datastore per JVM, of the kind {@code -Ddatastore} names: {@code etcd} (the default; the binary of
     * {@code -Detcd.bin}) or {@code kine}. Tests sharing it use prefixes of their own.
     */
    static TestDatastore shared() {
        String kind = System.getProperty("datastore", "etcd");
        return switch (kind) {
            case "etcd" -> EtcdCluster.shared();
            case "kine" -> SharedKine.get();
            default -> throw new IllegalStateException("-Ddatastore=" + kind + ": etcd or kine");
        };
    }

    /** The JVM's one kine, stopped when the JVM exits. */
    final class SharedKine {
        private static Kine kine;

        private SharedKine() {
        }

        static synchronized TestDatastore get() {
            if (kine == null) {
                Kine started = Kine.start();
                Runtime.getRuntime().addShutdownHook(new Thread(started::close, "kine-shutdown"));
                kine = started;
            }
            return new TestDatastore() {
                @Override
                public String endpointsCsv() {
                    return kine.endpointsCsv();
                }

                @Override
                public Client client() {
                    return kine.client();
                }

                @Override
                public boolean multiKeyTransactions() {
                    return false;
                }

                @Override
                public void close() {
                    // shared: lives until the JVM exits
                }
            };
        }
    }
}
