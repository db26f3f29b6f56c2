package dev.secretsencrypt.e2e;

import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.secretsencrypt.testing.Kine;
import java.nio.file.Path;

/**
 * The scenarios on kube-apiserver over kine on SQLite, a single k3s server's datastore: one server, every provider,
 * and three apiservers writing through the API while reencrypt runs (not a K3s topology, but the same kine writes).
 * rotate-keys with agents runs on kine over PostgreSQL ({@link KinePostgresE2eTest}), as K3s HA runs it.
 */
class KineSqliteE2eTest extends RotationScenarios {
    @Override
    ControlPlane controlPlane(Path root, int servers) {
        assumeFalse(scenario.equals("rotate-keys with agents"), "K3s runs agents on several servers over an external "
                + "datastore: this scenario runs on kine over PostgreSQL");
        return LocalControlPlane.create(root, servers, () -> Kine.startOn(Kine.Backend.SQLITE),
                LocalControlPlane.version(Kine.findBinary()) + " over SQLite");
    }
}
