#!/usr/bin/env bash
# Stops the local cluster and removes its network namespace and state: no process, mount,
# namespace or temporary directory is left.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/hack/lib/netns.sh"
NS=${SIGNPOST_LOCAL_NS:-signpost-local}
STATE=${SIGNPOST_LOCAL_STATE:-/run/signpost-local}
if [ -f "$STATE/pid" ]; then
  pid=$(cat "$STATE/pid")
  kill -TERM "$pid" 2>/dev/null || true
  # A clean stop removes what the cluster made on the host (mount points, /var/run/secrets);
  # give it a minute before the sweep kills whatever is left.
  for _ in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
fi
netns_sweep "$NS"
rm -rf "$STATE"
echo "[local-down] done" >&2
