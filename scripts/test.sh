#!/usr/bin/env bash
# The project's test command (README and CI call it): installs what the tests run for real
# (etcd, python3 with cryptography + nacl, openssl, systemd-analyze, maven, postgresql, mariadb-server) when missing,
# builds or reuses the e2e binaries (scripts/e2e-binaries.sh: kube-apiserver, etcd 3.5, 3.6 and 3.7, kine), then runs
# every test (JUnit tags unit, etcd, cluster, kine, e2e) on etcd 3.6 (the kine tests on kine over SQLite, the e2e
# scenarios on etcd 3.6, on kine over SQLite and on kine over PostgreSQL), and again the tests about the datastore on
# the others: tags datastore and failover on etcd 3.4 (Debian's), 3.5 and 3.7; tags kine and datastore on kine over
# SQLite, PostgreSQL and MariaDB (Debian's). Prints the tests run per tag.
#   scripts/test.sh --quick    unit and etcd tests only, on one etcd (mvn test: no jar built): minutes, no Go build
# Other arguments go to one maven run instead, e.g. scripts/test.sh -Dtest='dev.secretsencrypt.store.*Test'
set -euo pipefail

quick=0
if [ "${1:-}" = "--quick" ]; then
    quick=1
    shift
fi

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

# K3s' external datastores: the kine tests run again on kine over a PostgreSQL and a MariaDB of their own
# (scripts/kine-postgres.sh, scripts/kine-mariadb.sh)
if [ "$quick" -eq 0 ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    apt_install postgresql
fi
if [ "$quick" -eq 0 ] && ! command -v mariadb-install-db >/dev/null 2>&1 && [ ! -x /usr/bin/mariadb-install-db ]; then
    apt_install mariadb-server
fi

# How many tests ran, per JUnit tag of their class (from surefire's reports of the run just made, in $2).
summary() {
    /usr/bin/python3 - "$1" "${2:-target/surefire-reports}" <<'PY'
import glob, re, sys, xml.etree.ElementTree as ET
tags, runs = {}, {}
for src in glob.glob("src/test/java/**/*.java", recursive=True):
    text = open(src, encoding="utf-8").read()
    m = re.search(r'@Tag\("([a-z0-9]+)"\)\s*\n(?:@[^\n]*\n)*(?:public |abstract |final )*class (\w+)', text)
    if m:
        tags[m.group(2)] = m.group(1)
    m = re.search(r'class (\w+) extends (\w+)', text)
    if m:
        tags.setdefault(m.group(1), "@" + m.group(2))
for report in glob.glob(sys.argv[2] + "/TEST-*.xml"):
    suite = ET.parse(report).getroot()
    cls = suite.get("name").rsplit(".", 1)[-1]
    tag = tags.get(cls, "untagged")
    if tag.startswith("@"):
        tag = tags.get(tag[1:], "untagged")
    n = runs.setdefault(tag, [0, 0, 0])
    n[0] += int(suite.get("tests")); n[1] += int(suite.get("skipped")); n[2] += int(suite.get("failures")) + int(suite.get("errors"))
print("== " + sys.argv[1] + ": " + ", ".join("%s %d (%d skipped, %d failed)" % (t, *runs[t]) for t in sorted(runs)))
PY
}

# where EtcdCluster finds its etcd: the first of -Detcd.bin, $ETCD_BIN, Debian's /usr/bin/etcd, PATH
debian_etcd="${ETCD_BIN:-$(command -v etcd || echo /usr/bin/etcd)}"

# The summary counts surefire's reports, so each run starts without the last one's.
fresh_reports() {
    rm -rf target/surefire-reports
}

if [ "$quick" -eq 1 ]; then
    start=$SECONDS
    fresh_reports
    mvn -B test -Dgroups='unit | etcd' "$@"
    summary "quick run on $("$debian_etcd" --version | sed -n 1p), $((SECONDS - start)) s"
    exit 0
fi

# e2e: kube-apiserver and etcd 3.5/3.6, built with Go from the Go module proxy into a cache (README, "End-to-end").
bins="$(scripts/e2e-binaries.sh)"   # a failed build stops here (set -e)
etcd35="" etcd36="" etcd37="" kine=""
while read -r name version path; do
    case "$name $version" in
        "kube-apiserver "*) export KUBE_APISERVER_BIN="$path" ;;
        "etcd v3.5."*) etcd35="$path" ;;
        "etcd v3.6."*) etcd36="$path" ;;
        "etcd v3.7."*) etcd37="$path" ;;
        "kine "*) kine="$path" ;;
    esac
done <<<"$bins"
export E2E_ETCD_BIN="${E2E_ETCD_BIN:-$etcd36}"

if [ "$#" -gt 0 ]; then
    exec mvn -B verify -Dkine.bin="$kine" "$@"
fi
# Built once; then three streams of maven runs over the same classes, none of which compiles: the e2e scenarios
# (they mostly wait for kube-apiserver, whose automatic reload polls once a minute) from the start; every other test
# on etcd 3.6 (and tag kine on kine over SQLite); then the tests about the datastore again on the other etcd
# versions and, beside them, on kine over each SQL database.
all=$SECONDS
rm -rf target/surefire-reports target/reports-*
mvn -B -DskipTests package

e2e_start=$SECONDS
mvn -B surefire:test -Detcd.bin="$etcd36" -Dkine.bin="$kine" -Dgroups=e2e -Dsurefire.reports=target/reports-e2e \
    >target/e2e.log 2>&1 &
e2e=$!
kines=""
trap 'kill $e2e $kines 2>/dev/null || true' EXIT

start=$SECONDS
mvn -B surefire:test -Detcd.bin="$etcd36" -Dkine.bin="$kine" -DexcludedGroups=e2e
summary "the unit, etcd and cluster tests on $("$etcd36" --version | sed -n 1p), the kine tests on $("$kine" --version \
    | sed -n 1p) over SQLite, $((SECONDS - start)) s"

# kine over K3s' datastores: its own tests (tag kine) and the tests that run on whichever datastore they are given
# (tag datastore); over SQLite the kine tests ran above. PostgreSQL and MariaDB in the background (output in
# target/kine.log, shown at the end), SQLite after the etcd versions, so the two streams end together.
on_kine() {
    local backend="$1" groups="$2" start=$SECONDS
    mvn -B surefire:test -Dkine.bin="$kine" -Ddatastore=kine -Dkine.backend="$backend" -Dgroups="$groups" \
        -Dsurefire.reports="target/reports-kine-$backend" || return 1
    summary "the tests tagged $groups on kine over $backend, $((SECONDS - start)) s" "target/reports-kine-$backend"
}
(on_kine postgres 'kine | datastore' && on_kine mariadb 'kine | datastore') >target/kine.log 2>&1 &
kines=$!
for etcd in "$debian_etcd" "$etcd35" "$etcd37"; do
    start=$SECONDS
    reports="target/reports-etcd-$("$etcd" --version | sed -n 1p | tr -dc '0-9.')"
    # the HA runbook with member loss (tag failover) depends on how each etcd version fails over
    mvn -B surefire:test -Detcd.bin="$etcd" -Dgroups='datastore | failover' -Dsurefire.reports="$reports"
    summary "the tests tagged datastore and failover on $("$etcd" --version | sed -n 1p), $((SECONDS - start)) s" \
        "$reports"
done
on_kine sqlite datastore
kine_exit=0
wait "$kines" || kine_exit=$?
cat target/kine.log
e2e_exit=0
wait "$e2e" || e2e_exit=$?
trap - EXIT
cat target/e2e.log
summary "the e2e scenarios, $((SECONDS - e2e_start)) s" target/reports-e2e
grep -h '^== ' target/kine.log || true
echo "== scripts/test.sh: $((SECONDS - all)) s in all"
if [ "$kine_exit" -ne 0 ]; then
    echo "scripts/test.sh: the tests on kine failed (above, and target/reports-kine-*)" >&2
    exit "$kine_exit"
fi
exit "$e2e_exit"
