#!/usr/bin/env bash
# Builds otlpreceiver (main.go beside this script): an OTLP/HTTP metrics receiver
# on loopback that decodes with the official definitions (go.opentelemetry.io/proto/otlp),
# the judge of the operator's OTLP push. Prints the binary path.
exec bash "$(dirname "$0")/../../../scripts/go-build.sh" test/tools/otlpreceiver . otlpreceiver
