package dev.secretsencrypt.envelope;

import dev.secretsencrypt.config.Key;
import dev.secretsencrypt.config.ProviderType;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** The tab-separated vector format shared with testdata/vectors/make-vectors.sh and check-with-python.py. */
final class VectorFile {
    static final Path VECTORS = Path.of("testdata", "vectors", "vectors.tsv");
    static final Path CHECKER = Path.of("testdata", "vectors", "check-with-python.py");
    private static final String HEADER = "case\tprovider\tkey_name\tkey_base64\tetcd_key\tplaintext_base64\tstored_base64";

    record Vector(String name, ProviderType type, Key key, String etcdKey, byte[] plaintext, byte[] stored) {
        byte[] etcdKeyBytes() {
            return etcdKey.getBytes(StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private VectorFile() {
    }

    static List<Vector> read(Path file) throws IOException {
        List<Vector> vectors = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (line.isBlank() || line.startsWith("#") || line.equals(HEADER)) {
                continue;
            }
            String[] f = line.split("\t", -1);
            ProviderType type = ProviderType.byField(f[1]).orElseThrow();
            vectors.add(new Vector(f[0], type, new Key(f[2], f[3]), f[4], decode(f[5]), decode(f[6])));
        }
        return vectors;
    }

    static void write(Path file, List<Vector> vectors) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add(HEADER);
        Base64.Encoder b64 = Base64.getEncoder();
        for (Vector v : vectors) {
            lines.add(String.join("\t", v.name(), v.type().field(), v.key().name(), v.key().secret(), v.etcdKey(),
                    b64.encodeToString(v.plaintext()), b64.encodeToString(v.stored())));
        }
        Files.write(file, lines, StandardCharsets.UTF_8);
    }

    private static byte[] decode(String base64) {
        return Base64.getDecoder().decode(base64);
    }
}
