#!/usr/bin/env bash
# Builds one Go program from a module pinned in this repository (its go.mod and
# go.sum) through the Go module proxy, once per machine: cached outside the
# repo under ~/.cache/spiceai-operator/<module folder>/<key>/bin, keyed by this
# script and the module's go.mod, go.sum and Go sources, so it is built again
# only when one of those changes. Prints the binary's path.
#
#   bash scripts/go-build.sh MODULE_DIR PACKAGE NAME
#     MODULE_DIR  the module's folder, from the repository root (test/netpol)
#     PACKAGE     what `go build` builds there: . , ./webhookbare, or a
#                 package of a module the go.mod pins
#     NAME        the binary's name
#
# Every Go tool of the tests, benches and image build goes through here:
# test/netpol, test/tools/promql, test/tools/promcheck, test/tools/otlpreceiver, scripts/go-tools
# (crane, kube-score) and bench/peer.
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: $0 MODULE_DIR PACKAGE NAME" >&2; exit 2; }
repo=$(cd "$(dirname "$0")/.." && pwd)
dir=$(cd "$repo/$1" && pwd)
pkg=$2 name=$3
key=$( (cat "$0" "$dir/go.mod" "$dir/go.sum"; find "$dir" -name '*.go' -print0 | sort -z | xargs -0 cat) | sha256sum | cut -c1-16)
bin="${SPICEAI_GO_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spiceai-operator}/$(basename "$dir")/$key/bin"
out="$bin/$name"
if [ ! -x "$out" ]; then
  mkdir -p "$bin"
  started=$SECONDS
  echo "go-build: building $name from $1 ($pkg; first build only, cached in $bin)" >&2
  (cd "$dir" && GOFLAGS="${GOFLAGS:-} -mod=mod -trimpath" go build -ldflags="-s -w" -o "$out.tmp.$$" "$pkg")
  mv "$out.tmp.$$" "$out"
  echo "go-build: built $name in $((SECONDS - started))s" >&2
fi
echo "$out"
