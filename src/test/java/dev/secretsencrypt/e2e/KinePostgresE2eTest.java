package dev.secretsencrypt.e2e;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.secretsencrypt.testing.Kine;
import java.nio.file.Path;

/**
 * The scenarios with three apiservers on kine over PostgreSQL (Debian's), K3s' external datastore for HA: the
 * rotation while they write, and rotate-keys with an agent on each while a reader reads every Secret through each.
 */
class KinePostgresE2eTest extends RotationScenarios {
    @Override
    ControlPlane controlPlane(Path root, int servers) {
        assumeTrue(servers > 1, "the one-server scenarios run on SQLite (KineSqliteE2eTest), as a single k3s server");
        return LocalControlPlane.create(root, servers, () -> Kine.startOn(Kine.Backend.POSTGRES),
                LocalControlPlane.version(Kine.findBinary()) + " over PostgreSQL");
    }
}
