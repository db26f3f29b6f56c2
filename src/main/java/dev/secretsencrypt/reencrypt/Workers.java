package dev.secretsencrypt.reencrypt;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/** The threads of one pass or scan: one per core (the work is crypto), daemons, shut down when it ends. */
final class Workers {
    private Workers() {
    }

    static ExecutorService start(String name) {
        AtomicInteger next = new AtomicInteger();
        int threads = Math.max(2, Runtime.getRuntime().availableProcessors());
        return Executors.newFixedThreadPool(threads, work -> {
            Thread t = new Thread(work, name + "-" + next.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }
}
