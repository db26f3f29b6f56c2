package dev.secretsencrypt.reencrypt;

import java.util.ArrayList;
import java.util.List;

/** Cuts writes into transactions etcd accepts: at most so many puts and about so many bytes each. */
final class Batches {
    private Batches() {
    }

    /** In order; a value over {@code maxBytes} on its own still gets a transaction of its own. */
    static List<List<Rewrite>> split(List<Rewrite> writes, int maxValues, int maxBytes) {
        List<List<Rewrite>> batches = new ArrayList<>();
        List<Rewrite> current = new ArrayList<>();
        long bytes = 0;
        for (Rewrite w : writes) {
            int size = w.requestBytes();
            if (!current.isEmpty() && (current.size() >= maxValues || bytes + size > maxBytes)) {
                batches.add(current);
                current = new ArrayList<>();
                bytes = 0;
            }
            current.add(w);
            bytes += size;
        }
        if (!current.isEmpty()) {
            batches.add(current);
        }
        return batches;
    }
}
