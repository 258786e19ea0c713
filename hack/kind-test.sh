#!/usr/bin/env bash
# The kind suite (`npm run test:kind`): the smoke test, then the tutorial, on one cluster (made by
# the first when missing), removed afterwards with hack/kind-down.sh whatever the result. The
# images stay cached. SIGNPOST_KIND_CLUSTER names the cluster (default signpost).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
trap './hack/kind-down.sh' EXIT
./hack/kind-smoke.sh
./hack/kind-tutorial.sh
echo "[kind-test] PASS in $(($(date +%s) - start))s" >&2
