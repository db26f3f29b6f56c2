package dev.secretsencrypt.certs;

import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;

/**
 * What the operator does about a flagged certificate, by who renews it: renewal stays with the kubelet, cert-manager,
 * kubeadm, k3s/RKE2 or the operator; the report only says where to look.
 */
public final class NextStep {
    private static final Set<Flag> DATES = EnumSet.of(Flag.EXPIRED, Flag.EXPIRING);

    private NextStep() {
    }

    public static Optional<String> of(CertificateRecord r) {
        if (r.findings().stream().noneMatch(f -> DATES.contains(f.flag()))) {
            return Optional.empty(); // the other flags' details already say what to do
        }
        boolean expired = r.findings().stream().anyMatch(f -> f.flag() == Flag.EXPIRED);
        if (r.location() instanceof Location.InSecret s) {
            return Optional.of(forSecret(s, expired));
        }
        return Optional.of(forFile(r.location().where(), expired));
    }

    private static String forSecret(Location.InSecret s, boolean expired) {
        String secret = s.namespace() + "/" + s.name();
        if (s.key().equals("public.crt")) {
            return "a KES-style Secret (public.crt, private.key): issue a new certificate and key, write both into "
                    + secret + ", then restart the pods that mount it (KES reads its TLS files only at start)"
                    + (expired ? "; until then every TLS handshake to it fails with \"bad certificate\" (MinIO's IAM "
                    + "refresh fails first)" : "");
        }
        if (s.key().equals("ca.crt")) {
            return "the CA in " + secret + " ca.crt itself: issue a new CA, add it to the bundle beside the old one, "
                    + "reissue the leaves from it, then drop the old CA";
        }
        return "renew it where it was issued: if cert-manager manages " + secret + ", `kubectl describe certificate -n "
                + s.namespace() + "` says why it did not renew (`cmctl renew` forces it); otherwise replace the Secret's "
                + "data, then restart what mounts it unless it reloads files itself";
    }

    private static String forFile(String path, boolean expired) {
        String name = path.substring(path.lastIndexOf('/') + 1);
        if (name.startsWith("kubelet-client") || name.equals("client-kubelet.crt")) {
            return "the kubelet renews its client certificate itself (rotateCertificates) once most of its life has "
                    + "passed: one this close means rotation stopped; look for pending CSRs (`kubectl get csr`, approve "
                    + "them) and the kubelet's log" + (expired ? "; expired, the kubelet cannot reach the API server: "
                    + "bootstrap it again (a new bootstrap kubeconfig, or kubeadm join phase kubelet-start)" : "");
        }
        if (name.startsWith("kubelet-server") || name.equals("kubelet.crt") || name.equals("serving-kubelet.crt")) {
            return "the kubelet's serving certificate: with serverTLSBootstrap its renewal waits for an approved CSR "
                    + "(`kubectl get csr`, `kubectl certificate approve`); a self-signed kubelet.crt is made again only "
                    + "when it is deleted and the kubelet restarted";
        }
        if (path.contains("/rancher/")) {
            return "k3s and RKE2 renew certificates that expire within 90 days when the service restarts (systemctl "
                    + "restart k3s, rke2-server or rke2-agent); `k3s certificate rotate` (`rke2 certificate rotate`) "
                    + "renews them now";
        }
        if (path.contains("/kubernetes/pki/")) {
            return "kubeadm: `kubeadm certs renew all` (or the one named), then restart the control-plane static pods; "
                    + "`kubeadm certs check-expiration` lists the same dates";
        }
        return "renew it with whatever issued it, then restart what reads it";
    }
}
