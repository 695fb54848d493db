#!/usr/bin/env bash
# Builds promql (main.go beside this script): Prometheus's own PromQL parser
# (github.com/prometheus/prometheus/promql/parser) behind a JSON interface, the
# judge of the chart's alert rules and dashboard queries. Built from the pinned
# Go modules through the Go module proxy and cached outside the repo, keyed by
# the module files, so it is built once per machine. Prints the binary path.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
key=$(cat "$0" "$here"/go.mod "$here"/go.sum "$here"/main.go | sha256sum | cut -c1-16)
root=${SPICEAI_PROMQL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spiceai-operator/promql}
bin="$root/$key/bin"
out="$bin/promql"
if [ ! -x "$out" ]; then
  mkdir -p "$bin"
  started=$SECONDS
  echo "promql: building the PromQL parser from github.com/prometheus/prometheus (first build only; cached in $bin)" >&2
  (cd "$here" && GOFLAGS="${GOFLAGS:-} -mod=mod -trimpath" go build -o "$out.tmp.$$" .)
  mv "$out.tmp.$$" "$out"
  echo "promql: built promql in $((SECONDS - started))s" >&2
fi
echo "$out"
