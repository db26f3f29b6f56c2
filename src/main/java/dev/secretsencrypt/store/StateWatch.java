package dev.secretsencrypt.store;

/** Tells the agent when the rotation state or a server's report changed (an etcd watch, not a polling loop). */
public interface StateWatch {
    /**
     * Calls {@code changed} after each change of the state, a report or the run record, and also whenever the watch had to be opened again (etcd
     * lost, history compacted): then a change may have been missed, so the caller reads the state anew.
     */
    AutoCloseable onChange(Runnable changed);
}
