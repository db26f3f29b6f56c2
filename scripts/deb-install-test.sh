#!/usr/bin/env bash
# Installs the .deb into a clean Debian root (debootstrap bookworm, minbase: no JDK inside) and, in that root:
# `secrets-encrypt --version`; a single-server rotation in the default data dir (enable, prepare, rotate); then,
# when etcd is here, the same node joins a throw-away etcd on loopback (run outside the root) and completes the
# rotation with reencrypt over stored Secrets; then `dpkg -r` and `dpkg -P`, checking that the data dir, its config
# and the cluster token are byte for byte untouched. Takes minutes; not part of scripts/test.sh.
# Usage: scripts/deb-install-test.sh [path/to.deb]   (default: target/package/*.deb; run scripts/package.sh first)
# Needs root (debootstrap, chroot, a private mount namespace for /proc). DEBIAN_MIRROR overrides the mirror.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)

if [ "${1:-}" != __inner ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "Error: run scripts/deb-install-test.sh as root (debootstrap, chroot)" >&2; exit 1; fi
  deb=${1:-$(ls target/package/secrets-encrypt_*.deb 2>/dev/null | head -1)}
  if [ -z "$deb" ] || [ ! -f "$deb" ]; then echo "Error: no .deb: run scripts/package.sh first, or pass its path" >&2; exit 1; fi
  command -v debootstrap >/dev/null 2>&1 || { apt-get update -q; DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap; }
  exec unshare --mount --propagation private "$BASH" "$0" __inner "$(readlink -f "$deb")"
fi
deb=$2

root=$(mktemp -d /var/tmp/secrets-encrypt-debroot.XXXXXX)
# shellcheck source=scripts/packaging/loopback-etcd.sh
. scripts/packaging/loopback-etcd.sh
cleanup() {
  stop_loopback_etcd
  umount "$root/proc" 2>/dev/null || true
  rm -rf "$root" "$root.etcd"
}
trap cleanup EXIT
fail() { echo "FAILED: $*" >&2; exit 1; }
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }
say() { printf '\n# %s\n' "$*"; }
run() { printf '\n(chroot)$ %s\n' "$*"; in_root "$@"; }

say "debootstrap bookworm (minbase) into $root"
cache=/var/cache/secrets-encrypt-debootstrap
mkdir -p "$cache"
started=$(date +%s)
debootstrap --variant=minbase --cache-dir="$cache" bookworm "$root" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" \
  >"$root.debootstrap.log" 2>&1 || { cat "$root.debootstrap.log" >&2; fail "debootstrap"; }
rm -f "$root.debootstrap.log"
echo "done in $(( $(date +%s) - started )) s; $(in_root dpkg-query -W | wc -l) packages"
mount -t proc proc "$root/proc"
if in_root sh -c 'command -v java' || [ -d "$root/usr/lib/jvm" ]; then fail "the clean root has a Java runtime"; fi
echo "no java in the root: $(in_root sh -c 'command -v java || echo "command -v java: not found"')"

say "install $(basename "$deb") ($(du -m --apparent-size "$deb" | cut -f1) MiB)"
cp "$deb" "$root/tmp/secrets-encrypt.deb"
run dpkg -i /tmp/secrets-encrypt.deb
run ls -ld /var/lib/secrets-encrypt /etc/secrets-encrypt/config.yaml /lib/systemd/system/secrets-encrypt-sync.service \
  /lib/systemd/system/secrets-encrypt-agent.service /usr/share/doc/secrets-encrypt/examples/k3s.service.d/10-secrets-encrypt.conf \
  /usr/share/man/man1/secrets-encrypt.1.gz /usr/share/bash-completion/completions/secrets-encrypt
[ "$(stat -c %a "$root/var/lib/secrets-encrypt")" = 700 ] || fail "the data dir is not 0700"
run secrets-encrypt --version

say "single-server rotation in the default data dir /var/lib/secrets-encrypt"
run secrets-encrypt enable
run secrets-encrypt status
run secrets-encrypt prepare
run secrets-encrypt rotate
run secrets-encrypt status
first=$(in_root secrets-encrypt status -o json | sed -n 's/.*"activekey" : "\(.*\)".*/\1/p')
case "$first" in "AES-CBC aescbckey-"*) ;; *) fail "after rotate the active key is '$first', not the prepared one" ;; esac
run stat -c '%a %n' /var/lib/secrets-encrypt/encryption-config.json

etcd_bin=$(etcd_binary)
if [ -x "$etcd_bin" ]; then
  say "the same node joins an etcd on loopback (outside the root) and completes the rotation: reencrypt"
  start_loopback_etcd "$root.etcd"
  put() {  # etcd's JSON gateway: kube-apiserver's keys, a namespace and plaintext Secrets, as before encryption
    curl -fsS -X POST "$etcd_endpoint/v3/kv/put" \
      -d "{\"key\":\"$(printf %s "$1" | base64 -w0)\",\"value\":\"$(printf %s "$2" | base64 -w0)\"}" >/dev/null
  }
  # objects as kube-apiserver stores them with --storage-media-type=application/json
  put /registry/namespaces/default '{"kind":"Namespace","apiVersion":"v1","metadata":{"name":"default"}}'
  for i in $(seq 1 20); do
    put "/registry/secrets/default/secret-$i" "{\"kind\":\"Secret\",\"apiVersion\":\"v1\",\"metadata\":{\"name\":\"secret-$i\",\"namespace\":\"default\"},\"data\":{\"password\":\"$(printf 'written before encryption %s' "$i" | base64 -w0)\"}}"
  done
  echo "etcd $etcd_endpoint: 1 namespace, 20 plaintext Secrets under /registry"
  head -c 32 /dev/urandom | base64 >"$root/var/lib/secrets-encrypt/token"
  chmod 600 "$root/var/lib/secrets-encrypt/token"
  c=(--endpoints "$etcd_endpoint" --node-name node-1)
  run secrets-encrypt enable "${c[@]}"
  run secrets-encrypt sync "${c[@]}"
  # exit 3: every value readable, the 20 plaintext Secrets not under the active key yet (reencrypt is next)
  rc=0; run secrets-encrypt verify "${c[@]}" || rc=$?
  [ "$rc" -eq 3 ] || fail "verify on 20 plaintext Secrets exited $rc, not 3"
  run secrets-encrypt reencrypt "${c[@]}"
  run secrets-encrypt sync "${c[@]}"
  run secrets-encrypt status "${c[@]}"
  run secrets-encrypt verify "${c[@]}"
  in_root secrets-encrypt status "${c[@]}" | grep -q '^Current Rotation Stage: reencrypt_finished$' \
    || fail "the rotation did not reach reencrypt_finished"
else
  say "no etcd here (Debian: etcd-server): the rotation stops at rotate (reencrypt needs the datastore)"
  head -c 32 /dev/urandom | base64 >"$root/var/lib/secrets-encrypt/token"
  chmod 600 "$root/var/lib/secrets-encrypt/token"
fi

say "remove and purge: the data dir, its config and the token must stay byte for byte"
before=$(cd "$root/var/lib/secrets-encrypt" && find . -type f -printf '%m %p\n' -exec sha256sum {} \; | sort -k2)
echo "$before"
run dpkg -r secrets-encrypt
run dpkg -P secrets-encrypt
after=$(cd "$root/var/lib/secrets-encrypt" && find . -type f -printf '%m %p\n' -exec sha256sum {} \; | sort -k2)
[ "$before" = "$after" ] || { diff <(echo "$before") <(echo "$after") || true; fail "the data dir changed on remove/purge"; }
[ "$(stat -c %a "$root/var/lib/secrets-encrypt")" = 700 ] || fail "the data dir's mode changed"
if in_root sh -c 'command -v secrets-encrypt' || [ -e "$root/etc/secrets-encrypt/config.yaml" ] || [ -d "$root/usr/lib/secrets-encrypt" ]; then
  fail "purge left the program or its conffiles behind"
fi
echo "kept after purge, unchanged: /var/lib/secrets-encrypt (0700) with $(find "$root/var/lib/secrets-encrypt" -type f | wc -l) files; program and conffiles gone"
echo
echo "PASSED: deb installed and ran in a clean bookworm root without Java; data dir and token survived remove and purge"
