#!/usr/bin/env bash
# Start-up of the packaged tool, cold (page cache dropped before every run) and warm, with and without its
# class-data (CDS) archive, for `--version`, single-server `status` and cluster-mode `status` against a loopback
# etcd. Prints a table of medians; not a test (figures depend on the machine and its load, which it prints too).
# Usage: scripts/startup-bench.sh [RUNS]   (default 10 per cell). Run scripts/package.sh first.
# Needs root: dropping the page cache, and binding target/package's files at /usr/lib/secrets-encrypt in a private
# mount namespace (the archive is valid only there). Installs hyperfine (Debian) when missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)
prefix=/usr/lib/secrets-encrypt
stage=$repo/target/package/root

if [ "${1:-}" != __inner ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "Error: run scripts/startup-bench.sh as root (drops the page cache, binds $prefix privately)" >&2; exit 1; fi
  if [ ! -x "$stage/usr/bin/secrets-encrypt" ]; then
    echo "Error: no package built: run scripts/package.sh first" >&2; exit 1
  fi
  command -v hyperfine >/dev/null 2>&1 || { apt-get update -q; DEBIAN_FRONTEND=noninteractive apt-get install -y -q hyperfine; }
  exec unshare --mount --propagation private "$BASH" "$0" __inner "$@"
fi
runs=${2:-10}

created=0
work=$(mktemp -d)
# shellcheck source=scripts/packaging/loopback-etcd.sh
. scripts/packaging/loopback-etcd.sh
cleanup() {
  stop_loopback_etcd
  umount "$prefix" 2>/dev/null || true
  if [ "$created" = 1 ]; then rmdir "$prefix"; fi
  rm -rf "$work"
}
trap cleanup EXIT
if [ ! -d "$prefix" ]; then mkdir -p "$prefix"; created=1; fi
mount --bind "$stage$prefix" "$prefix"
packaged=$stage/usr/bin/secrets-encrypt

# a single-server node and a cluster node (one-member loopback etcd), each with a config and a report
single=(-d "$work/single")
"$packaged" enable "${single[@]}" >/dev/null
start_loopback_etcd "$work/etcd"
mkdir -p -m 700 "$work/cluster"
head -c 32 /dev/urandom | base64 >"$work/cluster/token"
chmod 600 "$work/cluster/token"
cluster=(-d "$work/cluster" --endpoints "$etcd_endpoint" --node-name bench-1)
"$packaged" enable "${cluster[@]}" >/dev/null
"$packaged" sync "${cluster[@]}" >/dev/null

drop=no
if sh -c 'sync; echo 3 > /proc/sys/vm/drop_caches' 2>/dev/null; then drop=yes; fi

declare -A variants=(
  [1-jdk]="env SECRETS_ENCRYPT_JAR=$repo/target/secrets-encrypt.jar $repo/scripts/secrets-encrypt"
  [2-nocds]="env SECRETS_ENCRYPT_JAVA_OPTS=-Xshare:off $packaged"
  [3-cds]="$packaged"
)
declare -A label=(
  [1-jdk]="system JDK 17, java -jar (scripts/secrets-encrypt)"
  [2-nocds]="package, CDS off (-Xshare:off)"
  [3-cds]="package, its CDS archive"
)
declare -A commands=(
  [1-version]="--version"
  [2-single]="status ${single[*]}"
  [3-cluster]="status ${cluster[*]}"
)
declare -A cmdlabel=([1-version]="--version" [2-single]="status, single-server" [3-cluster]="status, cluster (etcd)")

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "runtime: $("$prefix/runtime/bin/java" -version 2>&1 | sed -n 2p); etcd $("$(etcd_binary)" --version | sed -n 's/etcd Version: //p')"
echo "cold = page cache dropped before each run: $drop; $runs runs per cell; wall = median, cpu = mean user+sys"
results=$work/results
mkdir -p "$results"
for c in $(printf '%s\n' "${!commands[@]}" | sort); do
  for v in $(printf '%s\n' "${!variants[@]}" | sort); do
    cmd="${variants[$v]} ${commands[$c]}"
    if [ "$drop" = yes ]; then
      hyperfine -N --style none --runs "$runs" --prepare "sh -c 'sync; echo 3 > /proc/sys/vm/drop_caches'" \
        --export-json "$results/$c.$v.cold.json" "$cmd" >/dev/null
    fi
    hyperfine -N --style none --warmup 2 --runs "$runs" --export-json "$results/$c.$v.warm.json" "$cmd" >/dev/null
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
/usr/bin/python3 - "$results" <<PY
import json, os, sys
d = sys.argv[1]
cmdlabel = {"1-version": "${cmdlabel[1-version]}", "2-single": "${cmdlabel[2-single]}", "3-cluster": "${cmdlabel[3-cluster]}"}
label = {"1-jdk": "${label[1-jdk]}", "2-nocds": "${label[2-nocds]}", "3-cds": "${label[3-cds]}"}
def cell(c, v, mode):
    p = os.path.join(d, f"{c}.{v}.{mode}.json")
    if not os.path.exists(p):
        return "n/a", "n/a"
    r = json.load(open(p))["results"][0]
    return f"{r['median']:.2f} s", f"{r['user'] + r['system']:.2f} s"
print("| command | how | cold wall | cold cpu | warm wall | warm cpu |")
print("|---|---|---|---|---|---|")
for c in sorted(cmdlabel):
    for v in sorted(label):
        cw, cc = cell(c, v, "cold")
        ww, wc = cell(c, v, "warm")
        print(f"| {cmdlabel[c]} | {label[v]} | {cw} | {cc} | {ww} | {wc} |")
PY
