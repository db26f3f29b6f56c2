#!/usr/bin/env bash
# The HA rotation runbook against a throw-away three-member etcd on loopback: three server nodes (each with its own
# data dir and etcd member), one cluster token. kube-apiserver restarts are stood in for by `sync`, which is what
# runs before the apiserver starts (systemd ExecStartPre). Needs etcd (Debian: apt-get install -y etcd-server).
set -euo pipefail
cd "$(dirname "$0")/.."
se=scripts/secrets-encrypt
[ -f target/secrets-encrypt.jar ] || mvn -B -q -DskipTests package
# shellcheck source=scripts/packaging/loopback-etcd.sh
. scripts/packaging/loopback-etcd.sh
if [ ! -x "$(etcd_binary)" ]; then
  echo "Error: etcd not found: install it (Debian: apt-get install -y etcd-server) or set ETCD_BIN" >&2
  exit 1
fi
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

start_loopback_etcd_cluster "$work/etcd" 3
pids+=("${etcd_pids[@]}")
declare -a client
for i in 0 1 2; do client[i]=${etcd_clients[i]#http://127.0.0.1:}; done
echo "three-member etcd on 127.0.0.1:${client[0]},${client[1]},${client[2]}"
head -c 32 /dev/urandom | base64 > "$work/token"; chmod 600 "$work/token"

# server node N talks to etcd member N
on() { local n=$1; shift; printf '\n[server-%s]$ secrets-encrypt %s\n' "$n" "$*";
  $se "$@" -d "$work/server-$n" --node-name "server-$n" --endpoints "http://127.0.0.1:${client[$((n-1))]}" \
     --token-file "$work/token"; }
restart_all() { printf '\n# restart kube-apiserver on every server, one at a time (ExecStartPre runs sync)\n';
  for n in 1 2 3; do on "$n" sync; done; }

on 1 enable
restart_all
on 2 status
on 1 prepare
printf '\n# rotate before the servers restarted is refused and changes nothing:\n'
set +e; on 1 rotate; echo "exit code: $?"; set -e
on 3 status
restart_all
on 1 rotate
restart_all
on 2 status
printf '\n# every server now has the same file:\n'
sha256sum "$work"/server-*/encryption-config.json | sed "s#$work/##"
printf 'modes: %s\n' "$(stat -c '%n %a' "$work"/server-*/encryption-config.json | sed "s#$work/##g" | tr '\n' ' ')"
