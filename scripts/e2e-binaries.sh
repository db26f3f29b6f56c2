#!/usr/bin/env bash
# Builds (or reuses) the servers the e2e tests run and the loader bench.sh measures kine with, with the Go toolchain
# from the Go module proxy, at the versions pinned in scripts/e2e/*/go.mod (+ go.sum):
#   kube-apiserver      k8s.io/kubernetes/cmd/kube-apiserver, staging modules replaced by their published v0.x
#   etcd 3.5, 3.6, 3.7  go.etcd.io/etcd/server/v3/etcdmain behind a one-line main
#   kine                github.com/k3s-io/kine (a tool of scripts/e2e/kine), with SQLite through cgo as K3s builds it
#                       when gcc is there, else through its pure-Go driver
#   kineload            scripts/e2e/kineload: single-key compare-and-swap updates through go.etcd.io/etcd/client/v3,
#                       the reference scripts/bench.sh compares the pass on kine with; its version is a hash of its source
# Binaries go to $SECRETS_ENCRYPT_E2E_BIN_DIR (default ~/.cache/secrets-encrypt-e2e)/<name>-<version>/ and are
# reused when present; $KUBE_APISERVER_BIN, $ETCD35_BIN, $ETCD36_BIN, $ETCD37_BIN, $KINE_BIN, $KINELOAD_BIN name
# binaries of your own instead (the version printed is then the pinned one, not checked). Prints one line per binary:
# <name> <version> <path>. With arguments, builds only those module dirs of scripts/e2e (e.g. kine kineload).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${SECRETS_ENCRYPT_E2E_BIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/secrets-encrypt-e2e}"

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
    PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null 2>&1; then
    echo "scripts/e2e-binaries.sh: no Go toolchain (go 1.26 or newer) on PATH; install one and rerun, or set KUBE_APISERVER_BIN, ETCD35_BIN, ETCD36_BIN, ETCD37_BIN, KINE_BIN and KINELOAD_BIN to binaries of your own" >&2
    exit 1
fi

# Only the module dirs named on the command line, else all of them.
wanted() {
    [ "${#only[@]}" -eq 0 ] || [[ " ${only[*]} " == *" $1 "* ]]
}
only=("$@")
for dir in "${only[@]}"; do
    if [ ! -f "$here/e2e/$dir/go.mod" ]; then
        echo "scripts/e2e-binaries.sh: no module dir scripts/e2e/$dir; name some of: $(cd "$here/e2e" && echo */ | tr -d /)" >&2
        exit 2
    fi
done

# The version a module dir pins for a module, read from its go.mod (the one place it is written).
pinned() {
    sed -n "s#^require $2 \(v[^ ]*\)\$#\1#p" "$here/e2e/$1/go.mod"
}

# build OVERRIDE-VAR NAME MODULE-DIR PACKAGE VERSION [LDFLAGS [CGO [TAGS]]]: the binary named by $OVERRIDE-VAR if
# set, else go build into the cache unless the binary is there.
build() {
    local override="$1" name="$2" dir="$3" pkg="$4" version="$5" ldflags="${6:-}" cgo="${7:-0}" tags="${8:-}"
    if ! wanted "$dir"; then
        return
    fi
    if [ -n "${!override:-}" ]; then
        if [ ! -x "${!override}" ]; then
            echo "scripts/e2e-binaries.sh: $override=${!override} is not an executable file; fix or unset it" >&2
            exit 1
        fi
        echo "$name $version ${!override}"
        return
    fi
    local out="$cache/$name-$version/$name"
    if [ ! -x "$out" ]; then
        mkdir -p "$(dirname "$out")"
        echo "building $name $version (cold: takes minutes; reused afterwards from $out)" >&2
        local start=$SECONDS
        # -mod=readonly: go.sum pins every module; a build never edits the checked-in files.
        (cd "$here/e2e/$dir" && CGO_ENABLED="$cgo" go build -mod=readonly -trimpath -tags "$tags" -ldflags "$ldflags" \
            -o "$out.partial" "$pkg")
        mv "$out.partial" "$out"
        echo "built $name $version in $((SECONDS - start)) s" >&2
    fi
    echo "$name $version $out"
}

kube="$(pinned kube-apiserver k8s.io/kubernetes)"
kine="$(sed -n 's#^\t*github.com/k3s-io/kine \(v[^ ]*\).*$#\1#p' "$here/e2e/kine/go.mod")"
etcd35="$(pinned etcd-3.5 go.etcd.io/etcd/server/v3)"
etcd36="$(pinned etcd-3.6 go.etcd.io/etcd/server/v3)"
etcd37="$(pinned etcd-3.7 go.etcd.io/etcd/server/v3)"
# kineload is ours: a new build whenever its source changes
kineload="src-$(cat "$here/e2e/kineload/go.mod" "$here/e2e/kineload/go.sum" "$here/e2e/kineload/main.go" | sha256sum | cut -c1-12)"
kube_minor="${kube#v1.}"; kube_minor="${kube_minor%%.*}"

# The version kube-apiserver reports (and /version serves), as the release build stamps it.
kv=k8s.io/component-base/version
build KUBE_APISERVER_BIN kube-apiserver kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver "$kube" \
    "-s -w -X $kv.gitVersion=$kube -X $kv.gitMajor=1 -X $kv.gitMinor=$kube_minor -X $kv.gitTreeState=clean"
build ETCD35_BIN etcd etcd-3.5 . "$etcd35" "-s -w"
build ETCD36_BIN etcd etcd-3.6 . "$etcd36" "-s -w"
build ETCD37_BIN etcd etcd-3.7 . "$etcd37" "-s -w"
# kine's SQLite: cgo (mattn/go-sqlite3, as K3s ships it) when a C compiler is there, else the pure-Go driver
kine_cgo=0
if command -v gcc >/dev/null 2>&1; then
    kine_cgo=1
fi
build KINE_BIN kine kine github.com/k3s-io/kine "$kine" "-s -w -X github.com/k3s-io/kine/pkg/version.Version=$kine" \
    "$kine_cgo" "sqlite_unlock_notify"
build KINELOAD_BIN kineload kineload . "$kineload" "-s -w"
