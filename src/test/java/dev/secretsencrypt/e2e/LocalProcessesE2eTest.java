package dev.secretsencrypt.e2e;

import java.nio.file.Path;

/** The scenarios on kube-apiserver and etcd processes built by scripts/e2e-binaries.sh, on loopback. */
class LocalProcessesE2eTest extends RotationScenarios {
    @Override
    ControlPlane controlPlane(Path root, int servers) {
        return LocalControlPlane.create(root, servers);
    }
}
