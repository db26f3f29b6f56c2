#!/usr/bin/env bash
# Re-encryption benchmark: scripts/bench.sh [--datastore etcd|kine-sqlite|kine-postgres|kine-mariadb] [N]
#   etcd (default): starts its own etcd in a temp dir, seeds N Secrets (default 20000) as kube-apiserver stores them,
#     measures the ceiling (same values written back unchanged, same batching and CAS) and the pass, then the pass
#     at 5N for the heap high-water mark. The last line is "reencrypt/ceiling ratio: <x>".
#   kine-sqlite, kine-postgres, kine-mariadb: starts its own kine (over SQLite, or over a PostgreSQL or MariaDB of
#     its own), seeds N Secrets, runs kineload (scripts/e2e/kineload: the same single-key update transactions, in Go)
#     at each concurrency of $KINELOAD_CONCURRENCY (default 1,8,32,64), then in rounds the pass and kineload at its
#     best; prints both rates, their ratio, and the ratio to K3s' API path (a documented figure, not measured). The
#     last line is "reencrypt/loader ratio: <x> (goal >= 0.8)". $REENCRYPT_IN_FLIGHT (an experiment) lowers the
#     pass's transactions in flight below the command's.
set -euo pipefail
cd "$(dirname "$0")/.."
usage="usage: scripts/bench.sh [--datastore etcd|kine-sqlite|kine-postgres|kine-mariadb] [N]"
datastore=etcd
while [ "$#" -gt 0 ]; do
  case $1 in
    --datastore) [ "$#" -ge 2 ] || { echo "Error: --datastore needs a value ($usage)" >&2; exit 2; }
      datastore=$2; shift 2 ;;
    --datastore=*) datastore=${1#--datastore=}; shift ;;
    -h|--help) echo "$usage"; exit 0 ;;
    -*) echo "Error: unknown option '$1' ($usage)" >&2; exit 2 ;;
    *) break ;;
  esac
done
case $datastore in
  etcd|kine-sqlite|kine-postgres|kine-mariadb) ;;
  *) echo "Error: --datastore must be etcd, kine-sqlite, kine-postgres or kine-mariadb, got '$datastore' ($usage)" >&2; exit 2 ;;
esac
[ "$#" -le 1 ] || { echo "Error: one N at most, got '$*' ($usage)" >&2; exit 2; }
n=${1:-20000}
case $n in
  ''|*[!0-9]*|0) echo "Error: N must be a positive number of values, got '$n' ($usage)" >&2; exit 2 ;;
esac
jar=target/secrets-encrypt.jar
bench=target/test-classes/dev/secretsencrypt/bench/KineBench.class
if [ ! -f "$jar" ] || [ ! -f "$bench" ] || [ -n "$(find src pom.xml -newer "$jar" -type f | head -1)" ]; then
  if ! command -v mvn >/dev/null 2>&1; then
    echo "Error: mvn not found: install Maven (Debian: apt-get install -y maven) and run this again" >&2
    exit 1
  fi
  echo "== building $jar and the test classes" >&2
  mvn -B -q -DskipTests package test-compile
fi

if [ "$datastore" != etcd ]; then
  levels=${KINELOAD_CONCURRENCY:-1,8,32,64}
  case $levels in
    ''|*[!0-9,]*|,*|*,|*,,*) echo "Error: KINELOAD_CONCURRENCY must be numbers separated by commas (e.g. 1,8,32,64), got '$levels'" >&2; exit 2 ;;
  esac
  # kine and the loader from the e2e binaries' cache (built there once; $KINE_BIN / $KINELOAD_BIN override)
  bins="$(scripts/e2e-binaries.sh kine kineload)"
  kine_bin="$(awk '$1 == "kine" {print $3}' <<<"$bins")"
  kineload_bin="$(awk '$1 == "kineload" {print $3}' <<<"$bins")"
  echo "== kine: $kine_bin; loader: $kineload_bin"
  in_flight=${REENCRYPT_IN_FLIGHT:-}
  case $in_flight in
    *[!0-9]*|0) echo "Error: REENCRYPT_IN_FLIGHT must be a positive number of transactions, got '$in_flight'" >&2; exit 2 ;;
  esac
  exec java -Xmx512m -Dkine.bin="$kine_bin" -Dkineload.bin="$kineload_bin" \
    -Dkineload.concurrency="$levels" -Dreencrypt.inflight="$in_flight" \
    -cp target/test-classes:"$jar" dev.secretsencrypt.bench.KineBench "${datastore#kine-}" "$n"
fi
# The etcd measured: $ETCD_BIN, else Debian's, else the first on PATH (what the tests use); its version heads the output.
etcd_bin=${ETCD_BIN:-$( [ -x /usr/bin/etcd ] && echo /usr/bin/etcd || command -v etcd || true)}
if [ -z "$etcd_bin" ] || [ ! -x "$etcd_bin" ]; then
  echo "Error: etcd not found: install it (Debian: apt-get install -y etcd-server) or set ETCD_BIN" >&2
  exit 1
fi
echo "== etcd: $etcd_bin, $("$etcd_bin" --version | head -1)"
exec java -Xmx512m -Detcd.bin="$etcd_bin" -cp target/test-classes:"$jar" dev.secretsencrypt.bench.ReencryptBench "$n"
