package dev.secretsencrypt.testing;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Map;

/**
 * A kube-apiserver identity lease in the form kube-apiserver stores it ({@code k8s\0} + runtime.Unknown around a
 * coordination.k8s.io/v1 Lease, protobuf), as testdata/apiserver-leases holds a real one: for simulated apiservers.
 */
public final class StoredLease {
    private StoredLease() {
    }

    /** The stored bytes of the lease {@code name}, labelled as kube-apiserver labels it, renewed at {@code renewed}. */
    public static byte[] of(String name, String hostname, Instant renewed) {
        return of(name, Map.of("apiserver.kubernetes.io/identity", "kube-apiserver", "kubernetes.io/hostname", hostname),
                renewed);
    }

    public static byte[] of(String name, Map<String, String> labels, Instant renewed) {
        ByteArrayOutputStream metadata = new ByteArrayOutputStream();
        message(metadata, out -> {
            out.writeString(1, name);
            out.writeString(3, "kube-system");
            for (Map.Entry<String, String> l : labels.entrySet()) {
                out.writeBytes(11, bytes(entry -> {
                    entry.writeString(1, l.getKey());
                    entry.writeString(2, l.getValue());
                }));
            }
        });
        byte[] lease = bytes(out -> {
            out.writeBytes(1, ByteString.copyFrom(metadata.toByteArray()));
            out.writeBytes(2, bytes(spec -> {
                spec.writeString(1, name + "_00000000-0000-0000-0000-000000000000");
                spec.writeInt32(2, 3600);
                spec.writeBytes(4, bytes(time -> {
                    time.writeInt64(1, renewed.getEpochSecond());
                    time.writeInt32(2, renewed.getNano());
                }));
            }));
        }).toByteArray();
        byte[] unknown = bytes(out -> {
            out.writeBytes(1, bytes(type -> {
                type.writeString(1, "coordination.k8s.io/v1");
                type.writeString(2, "Lease");
            }));
            out.writeBytes(2, ByteString.copyFrom(lease));
            out.writeString(3, "");
            out.writeString(4, "");
        }).toByteArray();
        byte[] stored = new byte[4 + unknown.length];
        System.arraycopy(new byte[] {'k', '8', 's', 0}, 0, stored, 0, 4);
        System.arraycopy(unknown, 0, stored, 4, unknown.length);
        return stored;
    }

    private interface Writer {
        void write(CodedOutputStream out) throws IOException;
    }

    private static ByteString bytes(Writer w) {
        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        message(buffer, w);
        return ByteString.copyFrom(buffer.toByteArray());
    }

    private static void message(ByteArrayOutputStream buffer, Writer w) {
        try {
            CodedOutputStream out = CodedOutputStream.newInstance(buffer);
            w.write(out);
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
