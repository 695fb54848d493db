#!/usr/bin/env bash
# Builds one of the Go programs pinned in go.mod beside this script (crane,
# kube-score). Prints the binary's path.
#   bash scripts/go-tools/build.sh crane|kube-score
set -euo pipefail
case "${1:-}" in
  crane) pkg=github.com/google/go-containerregistry/cmd/crane ;;
  kube-score) pkg=github.com/zegl/kube-score/cmd/kube-score ;;
  *) echo "usage: $0 crane|kube-score" >&2; exit 2 ;;
esac
exec bash "$(dirname "$0")/../go-build.sh" scripts/go-tools "$pkg" "$1"
