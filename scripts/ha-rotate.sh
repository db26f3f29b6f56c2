#!/usr/bin/env bash
# The HA runbook for servers whose kube-apiserver loads the encryption config only when restarted (no agent, no
# automatic reload): prepare, restart the servers one at a time, each time waiting for that server's report of the
# new config (its `sync` at start-up sends it), then rotate, the same, then reencrypt, the same.
# It stops at the first problem and says what to do; run it again with the same arguments to continue: it reads
# the stage from `secrets-encrypt status` and skips servers that already loaded the config.
#
#   scripts/ha-rotate.sh --restart 'ssh {node} systemctl restart rke2-server' [--timeout 5m] [--poll 2] [--dry-run]
#                        SERVER... [-- SECRETS-ENCRYPT-OPTIONS...]
#
#   SERVER...       every server of the cluster, by the name it reports under (secrets-encrypt nodes lists them)
#   --restart CMD   restarts one server's kube-apiserver (k3s, rke2-server, ...); {node} is its name. Run by bash.
#   --timeout D     how long to wait for one server's restart and report: 30s, 5m, 1h (default 5m: longer than
#                   kube-apiserver's one-minute reload poll and a server's start-up)
#   --poll S        seconds between reads of the servers' reports (default 2)
#   --dry-run       print the plan from the current stage; change nothing, restart nothing
#   after --        options for every secrets-encrypt command (--config, --endpoints, -d, --token-file, ...)
#
# The tool is `secrets-encrypt` on PATH, or $SECRETS_ENCRYPT. Reads JSON with python3 (Debian: python3).
# Exit codes: 0 done (stage reencrypt_finished, every server on the final config); 1 stopped at a problem; 2 usage.
set -euo pipefail

usage() {
  echo "Usage: scripts/ha-rotate.sh --restart 'ssh {node} systemctl restart rke2-server' [--timeout 5m] [--poll 2]" \
    "[--dry-run] SERVER... [-- SECRETS-ENCRYPT-OPTIONS...]" >&2
  exit 2
}
usage_error() { echo "Error: $*" >&2; usage; }

restart="" timeout=5m poll=2 dry_run=0
servers=() tool_opts=()
while [ "$#" -gt 0 ]; do
  case "$1" in
    --restart) [ "$#" -ge 2 ] || usage; restart=$2; shift 2 ;;
    --timeout) [ "$#" -ge 2 ] || usage; timeout=$2; shift 2 ;;
    --poll) [ "$#" -ge 2 ] || usage; poll=$2; shift 2 ;;
    --dry-run) dry_run=1; shift ;;
    -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; tool_opts=("$@"); break ;;
    -*) usage_error "unknown option '$1' (options for secrets-encrypt go after --)" ;;
    *) servers+=("$1"); shift ;;
  esac
done
[ -n "$restart" ] || usage_error "--restart is missing: the command that restarts one server, with {node} for its name"
[[ "$restart" == *"{node}"* ]] || usage_error "--restart '$restart' has no {node}: it must name the server it restarts"
[ "${#servers[@]}" -gt 0 ] || usage_error "no servers given: name every server as 'secrets-encrypt nodes' lists them"
for s in "${servers[@]}"; do
  # a name goes into a shell command: only the characters node names have
  [[ "$s" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ ]] || usage_error "'$s' is not a server name (letters, digits, '.', '_', '-')"
done
seconds() {  # 90, 30s, 5m, 1h, 1h30m -> seconds
  local text=$1 total=0
  [[ "$text" =~ ^[0-9]+$ ]] && { echo "$text"; return; }
  [[ "$text" =~ ^([0-9]+[hms])+$ ]] || return 1
  while [[ "$text" =~ ^([0-9]+)([hms])(.*)$ ]]; do
    case "${BASH_REMATCH[2]}" in h) total=$((total + BASH_REMATCH[1] * 3600)) ;; m) total=$((total + BASH_REMATCH[1] * 60)) ;;
      s) total=$((total + BASH_REMATCH[1])) ;; esac
    text=${BASH_REMATCH[3]}
  done
  echo "$total"
}
if ! timeout_s=$(seconds "$timeout") || [ "$timeout_s" -eq 0 ]; then
  usage_error "--timeout '$timeout' is not a duration: give one such as 90s, 5m or 1h"
fi
[[ "$poll" =~ ^[0-9]+(\.[0-9]+)?$ ]] || usage_error "--poll '$poll' is not a number of seconds"

python=/usr/bin/python3
[ -x "$python" ] || python=$(command -v python3 || true)
if [ -z "$python" ]; then
  echo "Error: python3 is missing: it reads the tool's JSON (Debian: apt-get install -y python3)" >&2
  exit 1
fi
read -r -a tool <<<"${SECRETS_ENCRYPT:-secrets-encrypt}"
command -v "${tool[0]}" >/dev/null 2>&1 || {
  echo "Error: ${tool[0]} not found: install secrets-encrypt (scripts/install.sh) or set SECRETS_ENCRYPT to it" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage=""

# One secrets-encrypt command with the pass-through options; its stdout in $work/out. Stops on failure.
se() {
  local code=0
  "${tool[@]}" "$@" "${tool_opts[@]}" >"$work/out" 2>"$work/err" || code=$?
  if [ "$code" != 0 ]; then
    cat "$work/out" "$work/err" >&2
    stop "'secrets-encrypt $*' failed (exit $code; its message is above): fix what it says"
  fi
}
stop() {
  local again="run this script again with the same arguments"
  [ -n "$stage" ] && again="$again: it continues from stage $stage"
  echo "Error: $1, then $again." >&2
  exit 1
}
read_stage() {
  se status -o json
  stage=$("$python" -c 'import json, sys; print(json.load(sys.stdin)["stage"])' <"$work/out")
}
# Every server's "name mustreload report", one a line.
read_servers() {
  se nodes -o json
  "$python" -c '
import json, sys
for s in json.load(sys.stdin):
    print(s["name"], "yes" if s["mustreload"] else "no", s["report"])' <"$work/out" >"$work/servers"
}
must_reload() { awk -v n="$1" '$1 == n { print $2 }' "$work/servers"; }
report_of() { awk -v n="$1" '$1 == n { print $3 }' "$work/servers"; }

# The servers given and the servers registered must be the same: a server left out would hold back every step.
check_servers() {
  read_servers
  local name
  while read -r name _; do
    [[ " ${servers[*]} " == *" $name "* ]] || stop "$name is a registered server but not in the servers given: add it, or run 'secrets-encrypt nodes forget $name' if it is gone for good"
  done <"$work/servers"
  for name in "${servers[@]}"; do
    [ -n "$(must_reload "$name")" ] || stop "$name is not a registered server ('secrets-encrypt nodes' lists them): check the name, or run 'secrets-encrypt sync' on it once"
  done
}

# Restarts, one at a time, each server that has not loaded the current config, and waits for its report.
restart_servers() {
  check_servers
  local name cmd code started
  for name in "${servers[@]}"; do
    if [ "$(must_reload "$name")" = no ]; then
      echo "  $name already loaded it: $(report_of "$name")"
      continue
    fi
    cmd=${restart//\{node\}/$name}
    echo "  restarting $name: $cmd"
    code=0
    timeout "$timeout_s" bash -c "$cmd" </dev/null || code=$?
    if [ "$code" = 124 ]; then
      stop "the restart command for $name did not finish within $timeout: $cmd. Check $name"
    elif [ "$code" != 0 ]; then
      stop "the restart command for $name failed (exit $code): $cmd. Fix it (or restart $name by hand)"
    fi
    # wall-clock time since the restart: each read is a command of its own, which takes time too
    started=$SECONDS
    while :; do
      read_servers
      [ "$(must_reload "$name")" = no ] && break
      if [ $((SECONDS - started)) -ge "$timeout_s" ]; then
        stop "$name did not report the new config within $timeout of its restart (its report: $(report_of "$name")): check that its apiserver started and that its sync ran (journalctl -u <its unit>)"
      fi
      sleep "$poll"
    done
    echo "  $name loaded it: $(report_of "$name")"
  done
}

step() {  # one secrets-encrypt step, its output indented; each ends in a known stage (no read: a JVM start each)
  echo "secrets-encrypt $1"
  se "$@"
  sed 's/^/  /' "$work/out"
  case "$1" in prepare) stage=prepare ;; rotate) stage=rotate ;; reencrypt) stage=reencrypt_finished ;; esac
}

read_stage
check_servers
lagging=$(awk '$2 == "yes"' "$work/servers" | wc -l)
rotation=(prepare restart rotate restart reencrypt restart)
case "$stage" in
  # a previous run stopped after its re-encryption: only the last restarts are left
  reencrypt_finished) if [ "$lagging" -gt 0 ]; then plan=(restart); else plan=("${rotation[@]}"); fi ;;
  # servers behind at the start load the current config first, as prepare wants every server on it
  start) if [ "$lagging" -gt 0 ]; then plan=(restart "${rotation[@]}"); else plan=("${rotation[@]}"); fi ;;
  prepare) plan=(restart rotate restart reencrypt restart) ;;
  rotate) plan=(restart reencrypt restart) ;;
  # an interrupted or requested re-encryption: reencrypt resumes it from its checkpoint
  reencrypt_request|reencrypt_active) plan=(reencrypt restart) ;;
  *) stop "stage '$stage' is not one this script knows: see 'secrets-encrypt status'" ;;
esac

if [ "$dry_run" = 1 ]; then
  echo "plan from stage $stage, for ${servers[*]} (--dry-run: nothing is changed or restarted):"
  n=0
  for what in "${plan[@]}"; do
    n=$((n + 1))
    if [ "$what" = restart ]; then
      echo "  $n. restart each server that has not loaded the config, one at a time, waiting at most $timeout for its report:"
      for name in "${servers[@]}"; do echo "       ${restart//\{node\}/$name}"; done
    else
      echo "  $n. secrets-encrypt $what${tool_opts[*]:+ ${tool_opts[*]}}"
    fi
  done
  echo "now: $lagging of ${#servers[@]} servers have not loaded the current config"
  exit 0
fi

echo "stage $stage; servers ${servers[*]}"
for what in "${plan[@]}"; do
  if [ "$what" = restart ]; then
    echo "restarting the servers that have not loaded the $stage config, one at a time"
    restart_servers
  else
    step "$what"
  fi
done
read_stage
check_servers
if [ "$stage" != reencrypt_finished ] || [ "$(awk '$2 == "yes"' "$work/servers" | wc -l)" -gt 0 ]; then
  stop "the rotation should have ended in stage reencrypt_finished with every server on its config, but the stage is $stage: see 'secrets-encrypt status'"
fi
echo "done: stage reencrypt_finished, every server loaded the final config"
