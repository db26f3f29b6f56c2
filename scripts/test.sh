#!/usr/bin/env bash
# The project's test command (README and CI call it): installs what the tests run for real
# (etcd, python3 with cryptography + nacl, openssl, maven) when missing, then runs `mvn -B verify`.
# Extra arguments go to maven, e.g. scripts/test.sh -Dtest='dev.secretsencrypt.store.*Test'
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

apt_updated=0
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        echo "scripts/test.sh: need root (or sudo) to run: $*" >&2
        exit 1
    fi
}
apt_install() {
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "scripts/test.sh: missing $*, and apt-get is not available; install it and rerun" >&2
        exit 1
    fi
    if [ "$apt_updated" -eq 0 ]; then
        as_root apt-get update
        apt_updated=1
    fi
    # Debian's etcd-server may start a service on 2379; harmless, the tests use free ports only.
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@"
}

# etcd: the tests launch real etcd processes (EtcdCluster finds $ETCD_BIN, /usr/bin/etcd or PATH).
if [ -z "${ETCD_BIN:-}" ] && [ ! -x /usr/bin/etcd ] && ! command -v etcd >/dev/null 2>&1; then
    apt_install etcd-server
fi

# python3 with cryptography and nacl: cross-checks the envelope formats against independent code.
if ! /usr/bin/python3 -c 'import cryptography, nacl' >/dev/null 2>&1; then
    apt_install python3 python3-cryptography python3-nacl
fi

if ! command -v openssl >/dev/null 2>&1; then
    apt_install openssl
fi

if ! command -v mvn >/dev/null 2>&1; then
    apt_install maven
fi

exec mvn -B verify "$@"
