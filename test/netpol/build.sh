#!/usr/bin/env bash
# Builds netpol-eval (main.go beside this script): cyclonus's NetworkPolicy
# engine behind a JSON interface, the independent evaluator the network-policy
# semantics test checks the operator's policies with. Prints the binary path.
exec bash "$(dirname "$0")/../../scripts/go-build.sh" test/netpol . netpol-eval
