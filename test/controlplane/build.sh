#!/usr/bin/env bash
# Builds the test control plane (kube-apiserver, kube-controller-manager,
# kube-scheduler, etcd, kwok) from the pinned Go modules beside this script.
# Binaries are cached outside the repo, keyed by the pinned module files, so
# the large first build happens once per machine. Prints the bin directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
key=$(cat "$0" "$here"/{kube,etcd,kwok}/go.mod "$here"/{kube,etcd,kwok}/go.sum | sha256sum | cut -c1-16)
# The version the binaries report (kubectl and helm read it), from the pinned module.
kube_version=$(awk '/^require k8s.io\/kubernetes /{print $3}' "$here/kube/go.mod")
minor=$(echo "$kube_version" | cut -d. -f2)
version_pkg=k8s.io/component-base/version
kube_ldflags="-X $version_pkg.gitVersion=$kube_version -X $version_pkg.gitMajor=1 -X $version_pkg.gitMinor=$minor -X $version_pkg.gitTreeState=clean -X $version_pkg.buildDate=1970-01-01T00:00:00Z"
root=${SPICEAI_CP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spiceai-operator/controlplane}
bin="$root/$key/bin"
mkdir -p "$bin"
export GOFLAGS="${GOFLAGS:-} -mod=mod -trimpath"
jobs=$(nproc 2>/dev/null || echo 2)

build() { # module-dir package output [extra ldflags]
  local dir=$1 pkg=$2 out=$3 extra=${4:-}
  if [ -x "$bin/$out" ]; then return; fi
  local started=$SECONDS
  echo "controlplane: building $out from $pkg (first build only; cached in $bin)" >&2
  (cd "$here/$dir" && go build -p "$jobs" -ldflags="-s -w $extra" -o "$bin/$out.tmp" "$pkg")
  mv "$bin/$out.tmp" "$bin/$out"
  echo "controlplane: built $out in $((SECONDS - started))s" >&2
}

build etcd go.etcd.io/etcd/server/v3 etcd
build kwok sigs.k8s.io/kwok/cmd/kwok kwok
build kube k8s.io/kubernetes/cmd/kube-apiserver kube-apiserver "$kube_ldflags"
build kube k8s.io/kubernetes/cmd/kube-controller-manager kube-controller-manager "$kube_ldflags"
build kube k8s.io/kubernetes/cmd/kube-scheduler kube-scheduler "$kube_ldflags"
echo "$bin"
