package dev.secretsencrypt.reencrypt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.WireFormat;
import dev.secretsencrypt.store.EtcdPrefix;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Whether an etcd prefix is the live cluster's: kube-apiserver 1.26 and newer keeps an identity lease per server under
 * {@code <prefix>/leases/kube-system/apiserver-…} and renews it every 10 s. A stale copy of the data (an old restore
 * under another prefix) holds only leases nobody renews; retiring keys after scanning it would strand the live data.
 */
public final class ApiserverLeases {
    /** Far above the 10 s renew period, so a slow apiserver or a little clock skew is never taken for a stale copy. */
    public static final Duration STALE_AFTER = Duration.ofMinutes(5);
    /** How long to watch for a renewal: longer than the 10 s renew period, with room for a slow apiserver. */
    public static final Duration RENEWAL_WAIT = Duration.ofSeconds(15);
    private static final byte[] PROTOBUF_MAGIC = {'k', '8', 's', 0};
    private static final ObjectMapper JSON = new ObjectMapper();

    /** What the leases say about the prefix. */
    public sealed interface Liveness {
        /** A lease renewed within {@link #STALE_AFTER}. */
        record Live(Instant newestRenewal) implements Liveness {
        }

        /** Leases, none renewed recently. */
        record Stale(Instant newestRenewal, int leases) implements Liveness {
        }

        /** No identity lease that can be read (older kube-apiserver, or data without one): liveness unknown. */
        record Unknown() implements Liveness {
        }
    }

    private ApiserverLeases() {
    }

    public static String leasePrefix(EtcdPrefix etcdPrefix) {
        return etcdPrefix.under("leases/kube-system") + "apiserver-";
    }

    /** Judges the stored identity leases (values under {@link #leasePrefix}) at {@code now}. */
    public static Liveness judge(List<byte[]> leases, Instant now) {
        Optional<Instant> newest = leases.stream().map(ApiserverLeases::renewTime).flatMap(Optional::stream)
                .max(Instant::compareTo);
        if (newest.isEmpty()) {
            return new Liveness.Unknown();
        }
        if (newest.get().isAfter(now.minus(STALE_AFTER))) {
            return new Liveness.Live(newest.get());
        }
        return new Liveness.Stale(newest.get(), leases.size());
    }

    /** spec.renewTime of a coordination.k8s.io/v1 Lease as kube-apiserver stores it (protobuf or JSON), if readable. */
    static Optional<Instant> renewTime(byte[] stored) {
        try {
            if (startsWith(stored, PROTOBUF_MAGIC)) {
                byte[] raw = field(Arrays.copyOfRange(stored, 4, stored.length), 2); // runtime.Unknown.raw
                byte[] spec = field(raw, 2); // Lease.spec
                byte[] renew = field(spec, 4); // LeaseSpec.renewTime (MicroTime)
                return renew == null ? Optional.empty() : Optional.of(microTime(renew));
            }
            JsonNode renew = JSON.readTree(stored).path("spec").path("renewTime");
            return renew.isTextual() ? Optional.of(Instant.parse(renew.textValue())) : Optional.empty();
        } catch (IOException | RuntimeException unreadable) {
            return Optional.empty(); // encrypted, damaged or another version: this lease cannot say anything
        }
    }

    /** The bytes of the first length-delimited field {@code number}, or null (empty message) when absent. */
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
