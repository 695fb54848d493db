#!/usr/bin/env bash
# Builds netpol-eval (main.go beside this script): cyclonus's NetworkPolicy
# engine behind a JSON interface, the independent evaluator the network-policy
# semantics test checks the operator's policies with. Built from the pinned Go
# modules through the Go module proxy and cached outside the repo, keyed by
# the module files, so it is built once per machine. Prints the binary path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
key=$(cat "$0" "$here"/go.mod "$here"/go.sum "$here"/main.go | sha256sum | cut -c1-16)
root=${SPICEAI_NETPOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spiceai-operator/netpol}
bin="$root/$key/bin"
out="$bin/netpol-eval"
if [ ! -x "$out" ]; then
  mkdir -p "$bin"
  started=$SECONDS
  echo "netpol: building netpol-eval from github.com/mattfenwick/cyclonus (first build only; cached in $bin)" >&2
  (cd "$here" && GOFLAGS="${GOFLAGS:-} -trimpath" go build -o "$out.tmp.$$" .)
  mv "$out.tmp.$$" "$out"
  echo "netpol: built netpol-eval in $((SECONDS - started))s" >&2
fi
echo "$out"
