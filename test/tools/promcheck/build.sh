#!/usr/bin/env bash
# Builds promcheck (main.go beside this script): Prometheus's text-format parser
# and its naming linter (promlint) behind a JSON interface, how the tests read
# /metrics. Prints the binary path.
exec bash "$(dirname "$0")/../../../scripts/go-build.sh" test/tools/promcheck . promcheck
