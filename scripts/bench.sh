#!/usr/bin/env bash
# Re-encryption benchmark: starts its own etcd in a temp dir, seeds N Secrets (default 20000) as kube-apiserver
# stores them, measures the ceiling (same values written back unchanged, same batching and CAS) and the pass,
# then the pass at 5N for the heap high-water mark. The last line is "reencrypt/ceiling ratio: <x>".
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000}
case $n in
  ''|*[!0-9]*) echo "Error: N must be a positive number of values, got '$n' (usage: scripts/bench.sh [N])" >&2; exit 2 ;;
esac
jar=target/secrets-encrypt.jar
bench=target/test-classes/dev/secretsencrypt/bench/ReencryptBench.class
if [ ! -f "$jar" ] || [ ! -f "$bench" ] || [ -n "$(find src pom.xml -newer "$jar" -type f | head -1)" ]; then
  if ! command -v mvn >/dev/null 2>&1; then
    echo "Error: mvn not found: install Maven (Debian: apt-get install -y maven) and run this again" >&2
    exit 1
  fi
  echo "== building $jar and the test classes" >&2
  mvn -B -q -DskipTests package test-compile
fi
# The etcd measured: $ETCD_BIN, else Debian's, else the first on PATH (what the tests use); its version heads the output.
etcd_bin=${ETCD_BIN:-$( [ -x /usr/bin/etcd ] && echo /usr/bin/etcd || command -v etcd || true)}
if [ -z "$etcd_bin" ] || [ ! -x "$etcd_bin" ]; then
  echo "Error: etcd not found: install it (Debian: apt-get install -y etcd-server) or set ETCD_BIN" >&2
  exit 1
fi
echo "== etcd: $etcd_bin, $("$etcd_bin" --version | head -1)"
exec java -Xmx512m -Detcd.bin="$etcd_bin" -cp target/test-classes:"$jar" dev.secretsencrypt.bench.ReencryptBench "$n"
