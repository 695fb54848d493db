#!/usr/bin/env bash
# Builds the benchmark's Go baselines from the pinned module beside this script:
#  - spicepodset-peer: the controller-runtime SpicepodSet operator (bench/scale.ts, the
#    equivalence test);
#  - webhook-bare: a bare Go HTTPS server answering a constant AdmissionReview (bench/injection.ts).
# Both land in one folder (scripts/go-build.sh keys it by the module). Prints that folder.
set -euo pipefail
build="$(dirname "$0")/../../scripts/go-build.sh"
peer=$(bash "$build" bench/peer . spicepodset-peer | tail -1)
bash "$build" bench/peer ./webhookbare webhook-bare >/dev/null
dirname "$peer"
