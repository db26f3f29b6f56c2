#!/usr/bin/env bash
# A full single-server rotation with re-encryption against a real, throw-away etcd on loopback:
# enable -> N Secrets stored as kube-apiserver stores them -> verify -> prepare -> sync -> rotate -> sync ->
# reencrypt -> verify. Usage: scripts/reencrypt-demo.sh [N] (default 10000). Needs etcd (apt-get install -y etcd-server).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}
case $n in ''|*[!0-9]*) echo "Error: N must be a number, got '$n'" >&2; exit 2 ;; esac
etcd_bin=${ETCD_BIN:-$(command -v etcd || echo /usr/bin/etcd)}
if [ ! -x "$etcd_bin" ]; then
  echo "Error: etcd not found: install it (Debian: apt-get install -y etcd-server) or set ETCD_BIN" >&2
  exit 1
fi
if [ ! -f target/secrets-encrypt.jar ] || [ ! -f target/test-classes/dev/secretsencrypt/bench/SeedSecrets.class ]; then
  mvn -B -q -DskipTests package test-compile
fi
work=$(mktemp -d)
etcd_pid=
cleanup() { [ -n "$etcd_pid" ] && kill "$etcd_pid" 2>/dev/null; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
client=$(port); peer=$(port)
"$etcd_bin" --name demo --data-dir "$work/etcd" --listen-client-urls "http://127.0.0.1:$client" \
  --advertise-client-urls "http://127.0.0.1:$client" --listen-peer-urls "http://127.0.0.1:$peer" \
  --initial-advertise-peer-urls "http://127.0.0.1:$peer" --initial-cluster "demo=http://127.0.0.1:$peer" \
  >"$work/etcd.log" 2>&1 &
etcd_pid=$!
for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$client/health" 2>/dev/null | grep -q true && break; sleep 0.2; done
endpoints=http://127.0.0.1:$client
head -c 32 /dev/urandom | base64 > "$work/token"; chmod 600 "$work/token"
se() { printf '\n$ secrets-encrypt %s\n' "$*"; scripts/secrets-encrypt "$@" -d "$work/server-1" --node-name server-1 \
  --endpoints "$endpoints" --token-file "$work/token"; }

se enable
se sync
printf '\n# kube-apiserver stores %s Secrets under the current key\n' "$n"
java -cp target/test-classes:target/secrets-encrypt.jar dev.secretsencrypt.bench.SeedSecrets "$endpoints" \
  "$work/server-1/encryption-config.json" "$n"
se verify
se prepare
se sync
se rotate
se sync
se status
se reencrypt
se verify
se sync
se status
