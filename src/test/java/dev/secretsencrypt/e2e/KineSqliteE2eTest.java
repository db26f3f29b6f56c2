package dev.secretsencrypt.e2e;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.secretsencrypt.testing.Kine;
import java.nio.file.Path;

/**
 * The one-server scenario on kube-apiserver over kine on SQLite, a single k3s server's datastore (the scenarios with
 * three apiservers run on kine over PostgreSQL, {@link KinePostgresE2eTest}, as K3s HA runs them). The scenario
 * through every provider passed here too (113 s); the suite keeps to its time with the one closest to k3s.
 */
class KineSqliteE2eTest extends RotationScenarios {
    @Override
    ControlPlane controlPlane(Path root, int servers) {
        assumeTrue(scenario.equals("one server"), "K3s runs several servers on an external datastore, not on SQLite; "
                + "the providers are tried on etcd");
        return LocalControlPlane.create(root, servers, () -> Kine.startOn(Kine.Backend.SQLITE),
                LocalControlPlane.version(Kine.findBinary()) + " over SQLite");
    }
}
