package dev.secretsencrypt.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The tool's command line in a JVM of its own, on this test run's class path: for a process a test can kill, or a
 * {@code secrets-encrypt} on PATH for a script. Quick-start flags: the children are short-lived commands and agents.
 */
public final class ChildJvm {
    private static final List<String> FAST_START = List.of("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");

    private ChildJvm() {
    }

    /** {@code java … dev.secretsencrypt.cli.Main} followed by {@code args}. */
    public static List<String> command(List<String> args) {
        List<String> all = new ArrayList<>();
        all.add(java());
        all.addAll(FAST_START);
        all.addAll(List.of("-cp", System.getProperty("java.class.path"), "dev.secretsencrypt.cli.Main"));
        all.addAll(args);
        return all;
    }

    /** A {@code /bin/sh} script that runs the tool with its arguments, as an installed {@code secrets-encrypt}. */
    public static String script() {
        StringBuilder line = new StringBuilder("#!/bin/sh\nexec");
        for (String word : command(List.of())) {
            line.append(" '").append(word.replace("'", "'\\''")).append('\'');
        }
        return line.append(" \"$@\"\n").toString();
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }
}
