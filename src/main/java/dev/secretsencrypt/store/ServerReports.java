package dev.secretsencrypt.store;

import dev.secretsencrypt.rotation.NodeReport;
import java.util.List;

/** What each server reports it loaded: in etcd one report per server; in single-server mode the file on disk. */
public interface ServerReports {
    /** Records what this server loaded. */
    void report(NodeReport report);

    /** What every registered server last reported; an agent's report whose lease lapsed reads as stale. */
    List<NodeReport> reports();
}
