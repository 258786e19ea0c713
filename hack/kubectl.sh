#!/usr/bin/env bash
# kubectl against the local control plane, run inside its network namespace.
set -euo pipefail
NS=${SIGNPOST_LOCAL_NS:-signpost-local}
STATE=${SIGNPOST_LOCAL_STATE:-/run/signpost-local}
bin=$("$(dirname "$0")/build-control-plane.sh" 2>/dev/null | tail -1)
exec nsenter --net="/run/netns/$NS" "$bin/kubectl" --kubeconfig "$STATE/admin.kubeconfig" "$@"
