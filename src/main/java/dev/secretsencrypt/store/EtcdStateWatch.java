package dev.secretsencrypt.store;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.Watch;
import io.etcd.jetcd.options.WatchOption;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/** {@link StateWatch} on an etcd watch of the tool's prefix (state, reports, run record), opened again after an error. */
final class EtcdStateWatch implements StateWatch {
    private static final long REOPEN_DELAY_MILLIS = 1000;

    private final Client client;
    private final ByteSequence prefix;

    EtcdStateWatch(Client client, String prefix) {
        this.client = client;
        this.prefix = ByteSequence.from(prefix, StandardCharsets.UTF_8);
    }

    @Override
    public AutoCloseable onChange(Runnable changed) {
        AtomicBoolean closed = new AtomicBoolean();
        AtomicReference<Watch.Watcher> current = new AtomicReference<>();
        Runnable open = new Runnable() {
            @Override
            public void run() {
                if (closed.get()) {
                    return;
                }
                Runnable again = this;
                current.set(client.getWatchClient().watch(prefix, WatchOption.builder().isPrefix(true).build(), Watch.listener(
                        response -> changed.run(),
                        error -> reopen(again, changed, closed, current),
                        () -> reopen(again, changed, closed, current))));
            }
        };
        open.run();
        return () -> {
            closed.set(true);
            Watch.Watcher w = current.get();
            if (w != null) {
                w.close();
            }
        };
    }

    private static void reopen(Runnable open, Runnable changed, AtomicBoolean closed,
                               AtomicReference<Watch.Watcher> current) {
        if (closed.get()) {
            return;
        }
        Watch.Watcher broken = current.get();
        if (broken != null) {
            broken.close();
        }
        CompletableFuture.delayedExecutor(REOPEN_DELAY_MILLIS, TimeUnit.MILLISECONDS).execute(() -> {
            open.run();
            changed.run(); // whatever happened while the watch was down is read now
        });
    }
}
