#!/usr/bin/env bash
# Builds promql (main.go beside this script): Prometheus's own PromQL parser
# (github.com/prometheus/prometheus/promql/parser) behind a JSON interface, the
# judge of the chart's alert rules and dashboard queries. Prints the binary path.
exec bash "$(dirname "$0")/../../../scripts/go-build.sh" test/tools/promql . promql
