#!/usr/bin/env bash
# Installs secrets-encrypt on a server node from the jar `mvn -B -q -DskipTests package` builds (needs Java 17 on
# the node; a node without Java takes the .deb or tarball of scripts/package.sh instead):
#   <prefix>/lib/secrets-encrypt/secrets-encrypt.jar and <prefix>/bin/secrets-encrypt (the launcher)
#   /etc/systemd/system/secrets-encrypt-agent.service and secrets-encrypt-sync.service (neither enabled nor started)
#   <prefix>/share/doc/secrets-encrypt/: README.md and the sync drop-ins for k3s, rke2-server and kube-apiserver
#   /etc/secrets-encrypt/config.yaml and /etc/default/secrets-encrypt, only when missing (never overwritten)
#   /var/lib/secrets-encrypt, 0700, and a new cluster token in it (0600, never printed), only when none exists
# Run again at will: what is there and the same is left alone, and it says what it did.
#
#   scripts/install.sh [--root DIR] [--prefix /usr/local] [--jar FILE] [--dropin UNIT] [--no-token]
#
#   --root DIR     install under DIR instead of / (as DESTDIR; for images and tests); DESTDIR=DIR works too
#   --prefix P     where the tool goes (default /usr/local, the path the units name)
#   --jar FILE     the jar to install (default: target/secrets-encrypt.jar of this checkout)
#   --dropin UNIT  also install the sync drop-in for UNIT (k3s, rke2-server or kube-apiserver) into
#                  /etc/systemd/system/UNIT.service.d/: for a server without the agent
#   --no-token     make no token: on every server but the first, copy the first one's token instead
set -euo pipefail
umask 022
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() { echo "Usage: scripts/install.sh [--root DIR] [--prefix /usr/local] [--jar FILE] [--dropin k3s|rke2-server|kube-apiserver] [--no-token]" >&2; exit 2; }
fail() { echo "Error: $*" >&2; exit 1; }

root=${DESTDIR:-}
prefix=/usr/local
jar=$repo/target/secrets-encrypt.jar
dropin=""
make_token=1
while [ "$#" -gt 0 ]; do
  case "$1" in
    --root) [ "$#" -ge 2 ] || usage; root=$2; shift 2 ;;
    --prefix) [ "$#" -ge 2 ] || usage; prefix=$2; shift 2 ;;
    --jar) [ "$#" -ge 2 ] || usage; jar=$2; shift 2 ;;
    --dropin) [ "$#" -ge 2 ] || usage; dropin=$2; shift 2 ;;
    --no-token) make_token=0; shift ;;
    -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "Error: unknown argument '$1'" >&2; usage ;;
  esac
done
root=${root%/}
case "$prefix" in /*) prefix=${prefix%/} ;; *) echo "Error: --prefix must be an absolute path, not '$prefix'" >&2; usage ;; esac
if [ -n "$dropin" ] && [ ! -f "$repo/systemd/$dropin.service.d/10-secrets-encrypt.conf" ]; then
  echo "Error: there is no sync drop-in for '$dropin': choose k3s, rke2-server or kube-apiserver" >&2; usage
fi
[ -f "$jar" ] || fail "$jar does not exist: build it with 'mvn -B -q -DskipTests package' in $repo, or name another with --jar"
if [ -z "$root" ] && [ "$(id -u)" -ne 0 ]; then
  fail "installing into / needs root: run it with sudo, or give --root DIR to install under another directory"
fi

data=/var/lib/secrets-encrypt
doc=$prefix/share/doc/secrets-encrypt
units=/etc/systemd/system

# Installs one file with a mode: says whether it was new, changed or the same.
put() {
  local mode=$1 from=$2 to=$root$3
  mkdir -p "$(dirname "$to")"
  if [ -f "$to" ] && cmp -s "$from" "$to"; then
    chmod "$mode" "$to"
    echo "unchanged  $3"
  else
    local was=installed
    [ -e "$to" ] && was=updated
    install -m "$mode" "$from" "$to"
    echo "$was  $3"
  fi
}
# Installs a file only where none is: an operator's config is never replaced.
put_once() {
  local mode=$1 from=$2 to=$root$3
  if [ -e "$to" ]; then echo "kept       $3 (exists; the template is $from)"; return; fi
  mkdir -p "$(dirname "$to")"
  install -m "$mode" "$from" "$to"
  echo "installed  $3"
}
# The units name /usr/local: another prefix is written into them, as package.sh does for /usr.
with_prefix() {
  sed -e "s|/usr/local/bin/secrets-encrypt|$prefix/bin/secrets-encrypt|g" \
    -e "s|/usr/local/share/doc/secrets-encrypt|$doc|g" "$1"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

put 644 "$jar" "$prefix/lib/secrets-encrypt/secrets-encrypt.jar"
put 755 "$repo/scripts/secrets-encrypt" "$prefix/bin/secrets-encrypt"
put 644 "$repo/README.md" "$doc/README.md"
for unit in "$repo"/systemd/*.service; do
  with_prefix "$unit" >"$work/unit"
  put 644 "$work/unit" "$units/$(basename "$unit")"
done
for conf in "$repo"/systemd/*.service.d/*.conf; do
  server=$(basename "$(dirname "$conf")")
  with_prefix "$conf" >"$work/conf"
  put 644 "$work/conf" "$doc/examples/$server/$(basename "$conf")"
done
if [ -n "$dropin" ]; then
  with_prefix "$repo/systemd/$dropin.service.d/10-secrets-encrypt.conf" >"$work/conf"
  put 644 "$work/conf" "$units/$dropin.service.d/10-secrets-encrypt.conf"
fi
put_once 644 "$repo/systemd/config.yaml" /etc/secrets-encrypt/config.yaml
put_once 644 "$repo/systemd/secrets-encrypt.env" /etc/default/secrets-encrypt

# The data dir holds the keys and the token: 0700 whatever it was before.
if [ -d "$root$data" ]; then
  if [ "$(stat -c %a "$root$data")" != 700 ]; then chmod 700 "$root$data"; echo "made 0700  $data"; else echo "unchanged  $data (0700)"; fi
else
  install -d -m 700 "$root$data"
  echo "created    $data (0700)"
fi

token=$data/token
if [ -e "$root$token" ]; then
  mode=$(stat -L -c %a "$root$token")
  case "$mode" in
    600|400) echo "kept       $token (exists)" ;;
    *) echo "kept       $token (exists, but mode $mode: the tool refuses it until 'chmod 600 $token')" ;;
  esac
elif [ "$make_token" = 1 ]; then
  # written 0600 from the start (umask) in the same directory, then renamed: never readable by others, never half
  (umask 077; head -c 32 /dev/urandom | base64 >"$root$token.new")
  mv "$root$token.new" "$root$token"
  echo "created    $token (0600, a new cluster token: copy this file to the other servers; it is never printed)"
else
  echo "no token   $token: copy the first server's token here (mode 600) before the first sync"
fi

if [ -z "$root" ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload
  echo "reloaded   systemd (daemon-reload)"
fi

unit=${dropin:-k3s|rke2-server|kube-apiserver}
cat <<NEXT

Next, in this order (a server's kube-apiserver must never start on a file the cluster has not registered):
  1. Set endpoints, cacert, cert and key in /etc/secrets-encrypt/config.yaml (the same on every server), and the
     agent's apiserver-url, apiserver-cacert and its client certificate or token file.
  2. Once per cluster, on the first server: secrets-encrypt enable   (then copy $token to the other servers)
  3. On every server, the sync drop-in for its apiserver's unit, so each start runs 'secrets-encrypt sync' first
     (it writes the file and registers the server):$( [ -n "$dropin" ] && echo " installed for $dropin" || echo "
     scripts/install.sh --dropin $unit   (examples in $doc/examples/)")
  4. Point the apiserver at /var/lib/secrets-encrypt/encryption-config.json (the drop-in's comment says how), then
     systemctl daemon-reload && systemctl restart ${dropin:-<its unit>}
  5. systemctl enable --now secrets-encrypt-agent   (it reports what the apiserver loaded; without apiserver-url
     it keeps the file current and leaves the report to sync at each restart)
NEXT
