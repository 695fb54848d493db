#!/usr/bin/env bash
# Builds otlpreceiver (main.go beside this script): an OTLP/HTTP metrics receiver
# on loopback that decodes with the official definitions (go.opentelemetry.io/proto/otlp),
# the judge of the operator's OTLP push. Built from the pinned
# Go modules through the Go module proxy and cached outside the repo, keyed by
# the module files, so it is built once per machine. Prints the binary path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
key=$(cat "$0" "$here"/go.mod "$here"/go.sum "$here"/main.go | sha256sum | cut -c1-16)
root=${SPICEAI_OTLPRECEIVER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spiceai-operator/otlpreceiver}
bin="$root/$key/bin"
out="$bin/otlpreceiver"
if [ ! -x "$out" ]; then
  mkdir -p "$bin"
  started=$SECONDS
  echo "otlpreceiver: building the OTLP receiver from go.opentelemetry.io/proto/otlp (first build only; cached in $bin)" >&2
  (cd "$here" && GOFLAGS="${GOFLAGS:-} -mod=mod -trimpath" go build -o "$out.tmp.$$" .)
  mv "$out.tmp.$$" "$out"
  echo "otlpreceiver: built otlpreceiver in $((SECONDS - started))s" >&2
fi
echo "$out"
