#!/usr/bin/env bash
# Builds the self-contained distribution for server nodes, which have no Java:
#   target/package/secrets-encrypt_<version>_<arch>.deb       (dpkg -i)
#   target/package/secrets-encrypt-<version>-linux-<arch>.tar.gz   (tar -xzf … -C /: the same files)
# Contents: a jlink runtime with only the modules jdeps finds (plus jdk.crypto.ec for etcd TLS), the jar, a
# class-data (AppCDS) archive from a training run of the real commands, the launcher, man pages and bash
# completion generated from the picocli model, the systemd units (agent, sync), the sync drop-ins for k3s, rke2-server
# and kube-apiserver as examples, /etc/default/secrets-encrypt and the /etc/secrets-encrypt/config.yaml template
# (conffiles). The data dir /var/lib/secrets-encrypt is made 0700 by
# postinst and never removed. Reproducible: SOURCE_DATE_EPOCH is the commit's time; see the README for what differs.
# Installs what it needs from Debian when missing (openjdk-17 jdk + jmods, maven, asciidoctor); needs root for
# that and for the training run's private mount namespace.
set -euo pipefail
umask 022
cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$(pwd)
prefix=/usr/lib/secrets-encrypt   # an AppCDS archive is valid only at the path it was made for (Java 17)

# The training run: a private mount namespace puts the staged files at $prefix, where the archive must be made.
if [ "${1:-}" = "__train" ]; then
  lib=$2 work=$3
  created=0
  if [ ! -d "$prefix" ]; then mkdir -p "$prefix"; created=1; fi
  # shellcheck source=scripts/packaging/loopback-etcd.sh
  . "$repo/scripts/packaging/loopback-etcd.sh"
  untrain() { stop_loopback_etcd; umount "$prefix" 2>/dev/null || true; if [ "$created" = 1 ]; then rmdir "$prefix"; fi; }
  trap untrain EXIT
  mount --bind "$lib" "$prefix"
  java=$prefix/runtime/bin/java
  cp=$prefix/secrets-encrypt.jar
  n=0
  run() {  # one real command, its loaded classes listed; output kept in the log, exit codes checked
    n=$((n + 1))
    echo "\$ secrets-encrypt $*" >>"$work/train.log"
    "$java" -Xshare:off -XX:DumpLoadedClassList="$work/classes-$n.lst" -cp "$cp" dev.secretsencrypt.cli.Main "$@" \
      >>"$work/train.log" 2>&1
  }
  data=$work/train-local
  run --version
  run --help
  run status -d "$data"
  run enable -d "$data"
  run status -d "$data"
  run prepare -d "$data"
  run rotate -d "$data"
  run status -d "$data" -o json
  run sync -d "$data"
  if [ -x "$(etcd_binary)" ]; then
    start_loopback_etcd "$work/etcd"
    data=$work/train-cluster
    mkdir -p -m 700 "$data"
    head -c 32 /dev/urandom | base64 >"$data/token"
    chmod 600 "$data/token"
    c=(-d "$data" --endpoints "$etcd_endpoint" --node-name train-1)
    run status "${c[@]}"
    run enable "${c[@]}"
    run sync "${c[@]}"
    run status "${c[@]}"
    run prepare "${c[@]}"
    run sync "${c[@]}"
    run status "${c[@]}" -o json
    run rotate "${c[@]}"
    stop_loopback_etcd
  else
    echo "note: no etcd here (Debian: etcd-server): the archive is trained on single-server commands only" >&2
  fi
  # one list, first appearance kept: the dump reads it in order
  cat "$work"/classes-*.lst | awk '!seen[$0]++' >"$work/classes.lst"
  "$java" -Xshare:dump -XX:SharedClassListFile="$work/classes.lst" -XX:SharedArchiveFile="$prefix/secrets-encrypt.jsa" \
    -cp "$cp" >"$work/dump.log" 2>&1
  # the launcher must be able to map it (-Xshare:on fails otherwise): never package an archive that is ignored
  SECRETS_ENCRYPT_JAVA_OPTS=-Xshare:on "$lib/../../bin/secrets-encrypt" --version >/dev/null
  exit 0
fi

apt_updated=0
apt_install() {
  if [ "$(id -u)" -ne 0 ]; then echo "Error: missing $*: install it (Debian: apt-get install -y $*) or run as root" >&2; exit 1; fi
  if [ "$apt_updated" -eq 0 ]; then apt-get update -q; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}
if [ "$(id -u)" -ne 0 ]; then
  echo "Error: scripts/package.sh needs root: the AppCDS training run binds the staged files at $prefix in a private mount namespace" >&2
  exit 1
fi
jdk=/usr/lib/jvm/java-17-openjdk-$(dpkg --print-architecture)
[ -x "$jdk/bin/jlink" ] || apt_install openjdk-17-jdk-headless
[ -f "$jdk/jmods/java.base.jmod" ] || apt_install openjdk-17-jmods
command -v mvn >/dev/null 2>&1 || apt_install maven
command -v asciidoctor >/dev/null 2>&1 || apt_install asciidoctor
command -v curl >/dev/null 2>&1 || apt_install curl            # the training run waits for its etcd with it
[ -x /usr/bin/python3 ] || apt_install python3                  # picks free loopback ports for that etcd
export JAVA_HOME=$jdk PATH=$jdk/bin:$PATH TZ=UTC LC_ALL=C.UTF-8
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$repo" log -1 --format=%ct)}

version=$(sed -n 's|^  <version>\(.*\)</version>|\1|p' pom.xml | head -1)
debversion=${version/-SNAPSHOT/~snapshot}   # '~' sorts before the release, as a snapshot should
arch=$(dpkg --print-architecture)
out=$repo/target/package
stage=$out/root
lib=$stage$prefix
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$out"
mkdir -p "$out" "$lib"

echo "== jar (outputTimestamp = commit time, for identical bytes)"
mvn -B -q -DskipTests -Dproject.build.outputTimestamp="$SOURCE_DATE_EPOCH" package
cp target/secrets-encrypt.jar "$lib/secrets-encrypt.jar"

echo "== runtime: jlink"
modules=$(jdeps --ignore-missing-deps --multi-release 17 --print-module-deps "$lib/secrets-encrypt.jar")
# jdk.crypto.ec: TLS to etcd negotiates ECDHE (and etcd certificates are often EC); jdeps cannot see providers
modules=$modules,jdk.crypto.ec
echo "modules: $modules"
jlink --add-modules "$modules" --strip-debug --no-man-pages --no-header-files --output "$lib/runtime"

echo "== man pages and bash completion from the picocli model"
codegen=$work/codegen
mvn -B -q dependency:copy -Dartifact=info.picocli:picocli-codegen:4.7.7 -DoutputDirectory="$codegen"
model_env=(env -i PATH="$PATH" LC_ALL=C.UTF-8)   # defaults read from the environment must not leak in
"${model_env[@]}" java -cp "$lib/secrets-encrypt.jar:$codegen/picocli-codegen-4.7.7.jar" \
  picocli.codegen.docgen.manpage.ManPageGenerator -d "$work/adoc" dev.secretsencrypt.cli.Main
mkdir -p "$stage/usr/share/man/man1"
for adoc in "$work"/adoc/*.adoc; do
  asciidoctor -b manpage -a reproducible -D "$work/man" "$adoc"
done
for page in "$work"/man/*.1; do gzip -9n <"$page" >"$stage/usr/share/man/man1/$(basename "$page").gz"; done
mkdir -p "$stage/usr/share/bash-completion/completions"
"${model_env[@]}" java -cp "$lib/secrets-encrypt.jar" picocli.AutoComplete -f -n secrets-encrypt \
  -o "$stage/usr/share/bash-completion/completions/secrets-encrypt" dev.secretsencrypt.cli.Main

echo "== launcher, systemd units and drop-in examples, conffiles, docs"
install -D -m 755 scripts/packaging/secrets-encrypt "$stage/usr/bin/secrets-encrypt"
mkdir -p "$stage/lib/systemd/system" "$stage/etc/default" "$stage/etc/secrets-encrypt"
to_package_paths() { sed -e 's|/usr/local/bin/secrets-encrypt|/usr/bin/secrets-encrypt|g' \
  -e 's|/usr/local/share/doc/secrets-encrypt|/usr/share/doc/secrets-encrypt|g' "$1"; }
# the units are installed, neither enabled nor started: the operator picks the agent or a sync drop-in
for unit in systemd/*.service; do
  to_package_paths "$unit" >"$stage/lib/systemd/system/$(basename "$unit")"
done
# the drop-ins (k3s, rke2-server, kube-apiserver) are shipped as examples only: dropped into <unit>.service.d
# they would change how that server starts, which is the operator's choice
for dropin in systemd/*.service.d/*.conf; do
  examples=$stage/usr/share/doc/secrets-encrypt/examples/$(basename "$(dirname "$dropin")")
  mkdir -p "$examples"
  to_package_paths "$dropin" >"$examples/$(basename "$dropin")"
done
# the sample's endpoints and TLS files are examples: commented out, so a fresh node is single-server until set
sed -e 's|^SECRETS_ENCRYPT_ENDPOINTS=|#SECRETS_ENCRYPT_ENDPOINTS=|' -e 's|^SECRETS_ENCRYPT_ARGS=|#SECRETS_ENCRYPT_ARGS=|' \
  -e 's|^SECRETS_ENCRYPT_AGENT_ARGS=|#SECRETS_ENCRYPT_AGENT_ARGS=|' \
  systemd/secrets-encrypt.env >"$stage/etc/default/secrets-encrypt"
install -D -m 644 systemd/config.yaml "$stage/etc/secrets-encrypt/config.yaml"  # the commented template the tests parse
cp README.md "$stage/usr/share/doc/secrets-encrypt/README.md"

echo "== AppCDS archive: training run of the real commands at $prefix"
# the archive records the jar's and the runtime's mtimes: fix them now, as the package will install them
find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
unshare --mount --propagation private "$BASH" "$0" __train "$lib" "$work" || {
  echo "Error: the AppCDS training run failed; its log: $work/train.log (kept)" >&2
  trap - EXIT; exit 1; }
chmod 644 "$lib/secrets-encrypt.jsa"
echo "trained on $(wc -l <"$work/classes.lst") classes ($(grep -c '^\$' "$work/train.log") commands)"

echo "== tarball"
find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
tarball=$out/secrets-encrypt-$version-linux-$arch.tar.gz
tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner --format=gnu \
  -C "$stage" -cf - etc lib usr | gzip -9n >"$tarball"

echo "== .deb"
mkdir -p "$stage/DEBIAN"
cat >"$stage/DEBIAN/control" <<CONTROL
Package: secrets-encrypt
Version: $debversion
Architecture: $arch
Maintainer: secrets-encrypt developers <secrets-encrypt@localhost>
Installed-Size: $(du -sk --apparent-size "$stage" | cut -f1)
Depends: libc6, zlib1g
Section: admin
Priority: optional
Homepage: file:///usr/share/doc/secrets-encrypt/README.md
Description: safe rotation of the keys Kubernetes encrypts Secrets at rest with
 Rotates the keys kube-apiserver uses to encrypt Secrets at rest (EncryptionConfiguration),
 as a staged, checked state machine kept in etcd, on every server node of a highly
 available control plane. Ships its own Java runtime: no JDK is needed on the node.
CONTROL
printf '%s\n' /etc/default/secrets-encrypt /etc/secrets-encrypt/config.yaml >"$stage/DEBIAN/conffiles"
install -m 755 scripts/packaging/debian/postinst scripts/packaging/debian/postrm "$stage/DEBIAN/"
find "$stage" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
deb=$out/secrets-encrypt_${debversion}_$arch.deb
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null

echo "== done (SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
for f in "$deb" "$tarball"; do
  printf '%s  %s MiB  %s\n' "$(sha256sum "$f" | cut -c1-16)" "$(du -m --apparent-size "$f" | cut -f1)" "${f#"$repo"/}"
done
printf 'installed size: %s MiB (runtime %s MiB, jar %s MiB, CDS archive %s MiB)\n' \
  "$(du -sm --apparent-size "$stage" --exclude=DEBIAN | cut -f1)" "$(du -sm --apparent-size "$lib/runtime" | cut -f1)" \
  "$(du -m --apparent-size "$lib/secrets-encrypt.jar" | cut -f1)" "$(du -m --apparent-size "$lib/secrets-encrypt.jsa" | cut -f1)"
