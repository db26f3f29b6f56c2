package dev.secretsencrypt.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Runs the command line in-process, as an operator would type it, and keeps what it printed. */
final class Cli {
    record Result(int exitCode, String out, String err) {
        String all() {
            return out + err;
        }
    }

    /** Everything every run printed, to check that no key byte ever reached the terminal. */
    final List<String> printed = new ArrayList<>();

    /** A cluster token file as an operator must keep it: mode 600 (the tool refuses one others can read). */
    static void writeToken(Path file, String token) throws IOException {
        Files.writeString(file, token);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
    }

    Result run(String... args) {
        return runWith(Map.of(), args);
    }

    /** With these environment variables only (SECRETS_ENCRYPT_CONFIG, ETCDCTL_CACERT...), as a shell would set them. */
    Result runWith(Map<String, String> environment, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = Main.run(args, new PrintWriter(out, true), new PrintWriter(err, true), environment);
        Result r = new Result(code, out.toString(), err.toString());
        printed.add(r.all());
        return r;
    }
}
