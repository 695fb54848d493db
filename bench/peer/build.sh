#!/usr/bin/env bash
# Builds the benchmark's Go baselines from the pinned module beside this script:
#  - spicepodset-peer: the controller-runtime SpicepodSet operator (bench/scale.ts, the
#    equivalence test);
#  - webhook-bare: a bare Go HTTPS server answering a constant AdmissionReview (bench/injection.ts).
# Cached outside the repo, keyed by this script, go.mod, go.sum and the Go sources, so they are
# built once per machine and again only when one of those changes. Prints the bin directory.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
key=$( (cat "$0" "$here/go.mod" "$here/go.sum"; find "$here" -name '*.go' -print0 | sort -z | xargs -0 cat) | sha256sum | cut -c1-16)
root=${SPICEAI_PEER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spiceai-operator/peer}
bin="$root/$key/bin"
mkdir -p "$bin"
export GOFLAGS="${GOFLAGS:-} -mod=readonly -trimpath"
build() { # package output
  local pkg=$1 out=$2
  if [ -x "$bin/$out" ]; then return; fi
  local started=$SECONDS
  echo "peer: building $out (first build only; cached in $bin)" >&2
  (cd "$here" && go build -ldflags="-s -w" -o "$bin/$out.tmp.$$" "$pkg")
  mv "$bin/$out.tmp.$$" "$bin/$out"
  echo "peer: built $out in $((SECONDS - started))s" >&2
}
build . spicepodset-peer
build ./webhookbare webhook-bare
echo "$bin"
