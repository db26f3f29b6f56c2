package dev.secretsencrypt.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Every test class is in exactly one layer (JUnit tag unit, etcd, cluster, kine or e2e), directly or through the class it
 * extends: scripts/test.sh --quick selects by tag, so an untagged class would silently never run there. Besides its
 * layer a class may carry the tags scripts/test.sh picks the runs on the other datastores by: datastore (runs on
 * whichever {@link TestDatastore#shared()} gives, etcd or kine) and failover (etcd members lost).
 */
@Tag("unit")
class TestLayersTest {
    static final Set<String> LAYERS = Set.of("unit", "etcd", "cluster", "kine", "e2e");
    static final Set<String> SELECTIONS = Set.of("datastore", "failover");
    static final Pattern TAG = Pattern.compile("@Tag\\(\"([a-z0-9]+)\"\\)");
    static final Pattern EXTENDS = Pattern.compile("class \\w+ extends (\\w+)");

    @Test
    void everyTestClassIsInOneLayer() throws IOException {
        List<String> wrong;
        try (Stream<Path> files = Files.walk(Path.of("src", "test", "java"))) {
            wrong = files.filter(p -> p.getFileName().toString().endsWith("Test.java")).filter(p -> !inOneLayer(p))
                    .map(Path::toString).sorted().toList();
        }
        assertEquals(List.of(), wrong, "test classes without exactly one of the tags " + LAYERS);
    }

    private static boolean inOneLayer(Path file) {
        try {
            String text = Files.readString(file);
            List<String> tags = TAG.matcher(text).results().map(m -> m.group(1)).toList();
            if (tags.isEmpty()) {
                Matcher parent = EXTENDS.matcher(text);
                return parent.find() && inOneLayer(file.resolveSibling(parent.group(1) + ".java"));
            }
            return tags.stream().filter(LAYERS::contains).count() == 1
                    && tags.stream().allMatch(t -> LAYERS.contains(t) || SELECTIONS.contains(t));
        } catch (IOException e) {
            return false;
        }
    }
}
