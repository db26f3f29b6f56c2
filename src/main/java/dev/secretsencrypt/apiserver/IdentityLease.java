package dev.secretsencrypt.apiserver;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A kube-apiserver's identity lease as it is stored ({@code <etcd-prefix>/leases/kube-system/apiserver-…}), read from
 * kube-apiserver's protobuf storage form ({@code k8s\0} + {@code runtime.Unknown} around a coordination.k8s.io/v1
 * Lease) or JSON: whose it is, the host it runs on ({@code kubernetes.io/hostname}), and when it was last renewed
 * (every 10 s while it runs; kube-apiserver deletes it when it stops cleanly).
 */
public record IdentityLease(ApiserverIdentity identity, Optional<String> hostname, Optional<Instant> renewedAt) {
    static final String HOSTNAME_LABEL = "kubernetes.io/hostname";
    static final String COMPONENT_LABEL = "apiserver.kubernetes.io/identity";
    private static final byte[] PROTOBUF_MAGIC = {'k', '8', 's', 0};
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The host name for messages: the lease's label, else its name. */
    public String host() {
        return hostname.orElse(identity.leaseName());
    }

    /** What a stored value under the identity leases' prefix is. */
    public sealed interface Reading {
        /** A kube-apiserver's identity lease. */
        record Found(IdentityLease lease) implements Reading {
        }

        /** The lease of another component (an aggregated apiserver labels its own): not a kube-apiserver's. */
        record OtherComponent() implements Reading {
        }

        /** Not a Lease this tool can read (damaged, another version, or still encrypted). */
        record Unreadable() implements Reading {
        }
    }

    /** A value under the identity leases' prefix, decrypted, as kube-apiserver stores it. */
    public static Reading reading(byte[] stored) {
        try {
            Optional<Parsed> parsed = startsWith(stored, PROTOBUF_MAGIC)
                    ? Optional.of(protobuf(Arrays.copyOfRange(stored, PROTOBUF_MAGIC.length, stored.length)))
                    : json(stored);
            if (parsed.isEmpty()) {
                return new Reading.Unreadable();
            }
            Parsed p = parsed.get();
            if (!p.labels.getOrDefault(COMPONENT_LABEL, "kube-apiserver").equals("kube-apiserver")) {
                return new Reading.OtherComponent();
            }
            return ApiserverIdentity.ofLeaseName(p.name).<Reading>map(id -> new Reading.Found(new IdentityLease(id,
                    Optional.ofNullable(p.labels.get(HOSTNAME_LABEL)), p.renewedAt))).orElseGet(Reading.Unreadable::new);
        } catch (IOException | RuntimeException unreadable) {
            return new Reading.Unreadable();
        }
    }

    /** A kube-apiserver's identity lease out of its stored (decrypted) bytes; empty for anything else. */
    public static Optional<IdentityLease> read(byte[] stored) {
        return reading(stored) instanceof Reading.Found found ? Optional.of(found.lease()) : Optional.empty();
    }

    /** When it was last renewed, if the bytes say; empty for anything unreadable. */
    public static Optional<Instant> renewTime(byte[] stored) {
        return read(stored).flatMap(IdentityLease::renewedAt);
    }

    private record Parsed(String name, Map<String, String> labels, Optional<Instant> renewedAt) {
    }

    // runtime.Unknown{raw=2} > Lease{metadata=1, spec=2} > ObjectMeta{name=1, labels=11}, LeaseSpec{renewTime=4}
    private static Parsed protobuf(byte[] unknown) throws IOException {
        byte[] lease = field(unknown, 2);
        byte[] metadata = field(lease, 1);
        String name = new String(orEmpty(field(metadata, 1)), StandardCharsets.UTF_8);
        Map<String, String> labels = new LinkedHashMap<>();
        CodedInputStream in = CodedInputStream.newInstance(orEmpty(metadata));
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            if (WireFormat.getTagFieldNumber(tag) == 11 && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                byte[] entry = in.readByteArray(); // map entry: key=1, value=2
                labels.put(new String(orEmpty(field(entry, 1)), StandardCharsets.UTF_8),
                        new String(orEmpty(field(entry, 2)), StandardCharsets.UTF_8));
            } else {
                in.skipField(tag);
            }
        }
        byte[] renew = field(field(lease, 2), 4);
        return new Parsed(name, labels, renew == null ? Optional.empty() : Optional.of(microTime(renew)));
    }

    private static Optional<Parsed> json(byte[] stored) throws IOException {
        JsonNode lease = JSON.readTree(stored);
        if (lease == null || !lease.isObject()) {
            return Optional.empty();
        }
        Map<String, String> labels = new LinkedHashMap<>();
        lease.path("metadata").path("labels").fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
        JsonNode renew = lease.path("spec").path("renewTime");
        return Optional.of(new Parsed(lease.path("metadata").path("name").asText(""), labels,
                renew.isTextual() ? Optional.of(Instant.parse(renew.textValue())) : Optional.empty()));
    }

    /** The bytes of the first length-delimited field {@code number}, or null when absent. */
    private static byte[] field(byte[] message, int number) throws IOException {
        if (message == null) {
            return null;
        }
        CodedInputStream in = CodedInputStream.newInstance(message);
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            if (WireFormat.getTagFieldNumber(tag) == number
                    && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                return in.readByteArray();
            }
            in.skipField(tag);
        }
        return null;
    }

    private static byte[] orEmpty(byte[] bytes) {
        return bytes == null ? new byte[0] : bytes;
    }

    private static Instant microTime(byte[] message) throws IOException {
        CodedInputStream in = CodedInputStream.newInstance(message);
        long seconds = 0;
        int nanos = 0;
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> seconds = in.readInt64();
                case 2 -> nanos = in.readInt32();
                default -> in.skipField(tag);
            }
        }
        return Instant.ofEpochSecond(seconds, nanos);
    }

    private static boolean startsWith(byte[] value, byte[] prefix) {
        return value.length >= prefix.length && Arrays.equals(value, 0, prefix.length, prefix, 0, prefix.length);
    }
}
