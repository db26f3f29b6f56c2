#!/usr/bin/env bash
# The project's test command (README and CI call it): installs what the tests run for real
# (etcd, python3 with cryptography + nacl, openssl, systemd-analyze, maven) when missing, builds or reuses the e2e
# binaries (scripts/e2e-binaries.sh), then runs `mvn -B verify` on etcd 3.4 and the etcd-backed tests on etcd 3.5 and 3.6.
# Extra arguments go to one maven run instead, e.g. scripts/test.sh -Dtest='dev.secretsencrypt.store.*Test'
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

# systemd-analyze: SystemdUnitsTest runs `systemd-analyze verify` on every unit and drop-in in systemd/.
if ! command -v systemd-analyze >/dev/null 2>&1; then
    apt_install systemd
fi

if ! command -v openssl >/dev/null 2>&1; then
    apt_install openssl
fi

if ! command -v mvn >/dev/null 2>&1; then
    apt_install maven
fi

# e2e: kube-apiserver and etcd 3.5/3.6, built with Go from the Go module proxy into a cache (README, "End-to-end").
bins="$(scripts/e2e-binaries.sh)"   # a failed build stops here (set -e)
etcd35="" etcd36=""
while read -r name version path; do
    case "$name $version" in
        "kube-apiserver "*) export KUBE_APISERVER_BIN="$path" ;;
        "etcd v3.5."*) etcd35="$path" ;;
        "etcd v3.6."*) etcd36="$path" ;;
    esac
done <<<"$bins"
export E2E_ETCD_BIN="${E2E_ETCD_BIN:-$etcd36}"

if [ "$#" -gt 0 ]; then
    exec mvn -B verify "$@"
fi
# The whole suite (e2e included) on Debian's etcd 3.4, then the etcd-backed tests again on 3.5 and 3.6.
mvn -B verify
for etcd in "$etcd35" "$etcd36"; do
    echo "== etcd-backed tests (store, reencrypt, cli) on $("$etcd" --version | head -1)"
    mvn -B surefire:test -Detcd.bin="$etcd" \
        -Dtest='dev.secretsencrypt.store.*Test,dev.secretsencrypt.reencrypt.*Test,dev.secretsencrypt.cli.*Test'
done
