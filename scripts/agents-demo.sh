#!/usr/bin/env bash
# A whole rotation with no restart and no sync by hand: three simulated servers on one machine, a three-member etcd
# on loopback, a simulated kube-apiserver per server (it serves the real metrics format and reloads its file a few
# seconds after it changes, one of them slower), and secrets-encrypt agent on each. rotate-keys on one server then
# waits for what each apiserver says it loaded. Everything lives in a temp dir and is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f target/secrets-encrypt.jar ] || [ ! -f target/test-classes/dev/secretsencrypt/testing/SimulatedApiserver.class ]; then
  mvn -B -q -DskipTests package test-compile
fi
# shellcheck source=scripts/packaging/loopback-etcd.sh
. scripts/packaging/loopback-etcd.sh
if [ ! -x "$(etcd_binary)" ]; then
  echo "Error: etcd not found: install it (Debian: apt-get install -y etcd-server) or set ETCD_BIN" >&2
  exit 1
fi
se=scripts/secrets-encrypt
cp="target/test-classes:target/secrets-encrypt.jar"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_loopback_etcd_cluster "$work/etcd" 3
pids+=("${etcd_pids[@]}")
declare -a client metrics
for i in 0 1 2; do client[i]=${etcd_clients[i]#http://127.0.0.1:}; metrics[i]=$(free_port); done
endpoints="http://127.0.0.1:${client[0]},http://127.0.0.1:${client[1]},http://127.0.0.1:${client[2]}"
echo "three-member etcd on $endpoints"
head -c 32 /dev/urandom | base64 > "$work/token"; chmod 600 "$work/token"

# server N's options, in the array o: its data dir, name, own etcd member and the cluster token
# (each server's kube-apiserver runs under the host name server-N, as on a machine of its own)
opts() { o=(-d "$work/server-$1" --node-name "server-$1" --apiserver-hostname "server-$1"
            --endpoints "http://127.0.0.1:${client[$1-1]}" --token-file "$work/token"); }
on() { local n=$1; shift; printf '\n[server-%s]$ secrets-encrypt %s\n' "$n" "$*"; opts "$n"; $se "$@" "${o[@]}"; }
note() { printf '\n# %s\n' "$*"; }

on 1 enable
for n in 1 2 3; do opts "$n"; $se sync "${o[@]}" >/dev/null; done   # what each server's ExecStartPre does before kube-apiserver starts
note "kube-apiserver stores 500 Secrets under the current key"
java -cp "$cp" dev.secretsencrypt.bench.SeedSecrets "http://127.0.0.1:${client[0]}" "$work/server-1/encryption-config.json" 500

note "a simulated kube-apiserver per server: reloads its file 3 s after a change (server-3: 9 s), renews its identity lease"
java -cp "$cp" dev.secretsencrypt.testing.SimulatedApiserver LAST_CONFIG_INFO "http://127.0.0.1:${client[0]}" \
  "3:server-1:$work/server-1/encryption-config.json" "3:server-2:$work/server-2/encryption-config.json" \
  "9:server-3:$work/server-3/encryption-config.json" >"$work/apiservers.txt" 2>"$work/apiservers.log" &
pids+=($!)
for _ in $(seq 1 100); do [ "$(wc -l <"$work/apiservers.txt")" -ge 3 ] && break; sleep 0.2; done

note "secrets-encrypt agent on each server (as secrets-encrypt-agent.service runs it); its log: one line per event"
for n in 1 2 3; do
  read -r _ url ca < <(sed -n "${n}p" "$work/apiservers.txt")
  opts "$n"
  $se agent --apiserver-url "$url" --apiserver-cacert "$ca" --metrics-address "127.0.0.1:${metrics[$((n-1))]}" \
    "${o[@]}" >"$work/agent-$n.log" 2>&1 &
  pids+=($!)
done
opts 1
for _ in $(seq 1 150); do
  [ "$($se nodes "${o[@]}" 2>/dev/null | grep -c ' apiserver ')" -eq 3 ] && break
  sleep 0.2
done
on 1 nodes
on 2 verify

note "rotate-keys: prepare, rotate, reencrypt, each after every apiserver loaded the file; nothing is restarted"
on 1 rotate-keys --timeout 2m
on 3 status
on 2 verify
on 1 nodes

note "server-1's agent log"
sed 's/^[^ ]* //' "$work/agent-1.log"
note "server-1's agent metrics (excerpt): curl http://127.0.0.1:${metrics[0]}/metrics"
curl -fs "http://127.0.0.1:${metrics[0]}/metrics" | grep -E '^secrets_encrypt_(stage|agent_leader|server_loaded|stored_values|last_rotation)' || true
note "curl http://127.0.0.1:${metrics[0]}/healthz"
curl -fs "http://127.0.0.1:${metrics[0]}/healthz"

note "an agent that stops leaves a stale report, which holds the next rotation until it is back"
kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
opts 1
for _ in $(seq 1 50); do $se nodes "${o[@]}" 2>/dev/null | grep -q stale && break; sleep 0.2; done
on 1 nodes
printf '\nall cleaned up on exit (%s)\n' "$work"
