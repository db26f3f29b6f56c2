package dev.secretsencrypt.e2e;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.testcontainers.DockerClientFactory;

/**
 * The scenarios on K3s in a container (Testcontainers): its embedded etcd, its kube-apiserver pointed at the
 * tool's file. Runs where a Docker engine and the K3s image are available; skipped, saying why, elsewhere.
 * K3s here is one server, so the three-apiserver scenario is skipped too.
 */
class K3sE2eTest extends RotationScenarios {

    // Per test, so every scenario shows as skipped with this reason (a class-level skip reports nothing).
    @BeforeEach
    void dockerEngine() {
        assumeTrue(DockerClientFactory.instance().isDockerAvailable(),
                "skipped: no Docker engine reachable, so the K3s container cannot run here (the local-process control plane covers the scenarios)");
    }

    @Override
    ControlPlane controlPlane(Path root, int servers) {
        assumeTrue(servers == 1, "skipped: the K3s control plane runs one server, this scenario needs " + servers);
        return K3sControlPlane.create(root);
    }
}
