#!/usr/bin/env bash
# Builds secrets-encrypt and walks through one complete key rotation on a throw-away data dir.
# Nothing outside a temporary directory is touched; no kube-apiserver is needed (restarts are only announced).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v mvn >/dev/null 2>&1; then
  echo "Error: mvn not found: install Maven (Debian: apt-get install -y maven) and run this again" >&2
  exit 1
fi
echo "== building target/secrets-encrypt.jar"
mvn -B -q -DskipTests package test-compile
se=scripts/secrets-encrypt
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
data=$work/server-1
step() { printf '\n$ secrets-encrypt %s\n' "$*"; $se "$@" -d "$data"; }
note() { printf '\n# %s\n' "$*"; }

note "single server, data dir $data (kube-apiserver would read $data/encryption-config.json)"
step enable
step status
note "prepare adds a new key that every server can read with; none writes with it yet"
step prepare
step status
note "(restart kube-apiserver now, so it loads the new key)"
note "rotate makes the new key the one that encrypts"
step rotate
step status -o json
note "(restart kube-apiserver again; then 'reencrypt' rewrites stored Secrets under the new key: see README)"
note "a step out of order (prepare again at stage rotate) is refused and changes nothing:"
set +e
$se prepare -d "$data"; echo "exit code: $?"
set -e
printf '\nfile mode of encryption-config.json: %s\n' "$(stat -c %a "$data/encryption-config.json")"

if command -v etcd >/dev/null 2>&1 || [ -x /usr/bin/etcd ]; then
  printf '\n== an HA control plane that rotates itself: three servers with agents, a three-member etcd on loopback\n'
  bash scripts/agents-demo.sh
  printf '\n(more: scripts/ha-demo.sh runs the same rotation step by step with restarts and sync, as without agents;\n'
  printf ' scripts/reencrypt-demo.sh N re-encrypts N stored Secrets)\n'
else
  printf '\n(install etcd-server to also see the HA rotation with agents: apt-get install -y etcd-server; then scripts/agents-demo.sh)\n'
fi
