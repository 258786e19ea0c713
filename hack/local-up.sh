#!/usr/bin/env bash
# Brings up the local cluster (control plane plus network-namespace nodes) inside the network
# namespace signpost-local, which has no route out, and returns once every node is Ready. Use hack/kubectl.sh to talk to it and
# hack/local-down.sh to remove every trace of it.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/hack/lib/node.sh"
source "$root/hack/lib/netns.sh"
ensure_node24
NS=${SIGNPOST_LOCAL_NS:-signpost-local}
STATE=${SIGNPOST_LOCAL_STATE:-/run/signpost-local}

if [ -f "$STATE/ready" ]; then echo "[local-up] already up ($(cat "$STATE/ready"))" >&2; exit 0; fi
"$root/hack/build-control-plane.sh" >/dev/null
netns_destroy "$NS"
netns_create "$NS"
mkdir -p "$STATE"
# Not through the netns_run function: a backgrounded function is a subshell, and $! would be
# its pid rather than the cluster's, so local-down.sh could not stop it cleanly.
nsenter --net="/run/netns/$NS" setsid node "$root/hack/local-cluster.ts" --state-dir "$STATE" \
  >"$STATE/local-cluster.log" 2>&1 </dev/null &
echo $! >"$STATE/pid"
for _ in $(seq 1 600); do
  [ -f "$STATE/ready" ] && break
  if ! kill -0 "$(cat "$STATE/pid")" 2>/dev/null; then
    echo "[local-up] error: the control plane failed to start; its log:" >&2
    tail -30 "$STATE/local-cluster.log" >&2
    netns_destroy "$NS"
    exit 1
  fi
  sleep 0.2
done
[ -f "$STATE/ready" ] || { echo "[local-up] error: not ready after 120 s" >&2; exit 1; }
echo "[local-up] cluster ready: API server $(cat "$STATE/ready") in netns $NS" >&2
