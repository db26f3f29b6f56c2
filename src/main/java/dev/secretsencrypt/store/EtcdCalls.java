package dev.secretsencrypt.store;

import dev.secretsencrypt.failure.StateUnavailable;
import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.KV;
import io.etcd.jetcd.kv.GetResponse;
import io.etcd.jetcd.options.GetOption;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Requests to one etcd, bounded in time and retried where that is safe; every store capability on etcd goes through
 * here, so an unreachable etcd is the same sentence everywhere and never a hang.
 */
final class EtcdCalls {
    final Client client;
    final KV kv;
    final String endpoints;
    final Duration timeout;
    private volatile boolean reached;

    EtcdCalls(Client client, String endpoints, Duration timeout) {
        this.client = client;
        this.kv = client.getKVClient();
        this.endpoints = endpoints;
        this.timeout = timeout;
    }

    /** Waits at most the timeout: an unreachable etcd is an error in seconds, never a hang. */
    <T> T await(CompletableFuture<T> future, String what) {
        try {
            T answer = future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            reached = true;
            return answer;
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new StateUnavailable("cannot " + what + ": etcd at " + endpoints + " did not answer within "
                    + timeout.toSeconds() + " s; check --endpoints, the TLS options and that etcd is running", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            throw new StateUnavailable("cannot " + what + " in etcd at " + endpoints + ": " + cause.getMessage(), cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new StateUnavailable("interrupted while waiting for etcd to " + what);
        }
    }

    /**
     * For requests that are safe to send twice (reads, plain puts): a lost member or a leader election is ridden
     * through as long as the quorum holds, instead of ending a pass that has been running for an hour.
     */
    <T> T awaitRetrying(Supplier<CompletableFuture<T>> request, String what) {
        for (int attempt = 1; ; attempt++) {
            try {
                return await(request.get(), what);
            } catch (StateUnavailable e) {
                // an etcd never reached is a setup problem (endpoints, TLS): said within seconds, not retried
                if (!reached || attempt >= EtcdRetry.ATTEMPTS || !EtcdRetry.isTransient(e.getCause())) {
                    throw e;
                }
            }
            try {
                Thread.sleep(EtcdRetry.delayBefore(attempt + 1).toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new StateUnavailable("interrupted while waiting for etcd to " + what);
            }
        }
    }

    /** Every key under {@code prefix}, retried. */
    GetResponse under(String prefix, String what) {
        return awaitRetrying(() -> kv.get(bytes(prefix), GetOption.builder().isPrefix(true).build()), what);
    }

    static ByteSequence bytes(String s) {
        return ByteSequence.from(s, StandardCharsets.UTF_8);
    }
}
