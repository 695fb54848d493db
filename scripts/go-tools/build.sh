#!/usr/bin/env bash
# Builds one of the Go programs pinned in go.mod beside this script (crane,
# kube-score) through the Go module proxy, once per machine: cached outside the
# repo, keyed by the pinned module files. Prints the binary's path.
#   bash scripts/go-tools/build.sh crane|kube-score
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
case "${1:-}" in
  crane) pkg=github.com/google/go-containerregistry/cmd/crane ;;
  kube-score) pkg=github.com/zegl/kube-score/cmd/kube-score ;;
  *) echo "usage: $0 crane|kube-score" >&2; exit 2 ;;
esac
key=$(cat "$0" "$here"/go.mod "$here"/go.sum "$here"/tools.go | sha256sum | cut -c1-16)
root=${SPICEAI_GO_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spiceai-operator/go-tools}
bin="$root/$key/bin"
out="$bin/$1"
if [ ! -x "$out" ]; then
  mkdir -p "$bin"
  started=$SECONDS
  echo "go-tools: building $1 from $pkg (first build only; cached in $bin)" >&2
  (cd "$here" && GOFLAGS="${GOFLAGS:-} -mod=mod -trimpath" go build -ldflags="-s -w" -o "$out.tmp.$$" "$pkg")
  mv "$out.tmp.$$" "$out"
  echo "go-tools: built $1 in $((SECONDS - started))s" >&2
fi
echo "$out"
