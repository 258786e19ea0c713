#!/usr/bin/env bash
# The local cluster's stand-in for `kubectl exec POD -- CMD...`: the netns kubelet has no exec API,
# so this runs CMD in the pod's network namespace, which carries the pod's resolv.conf and hosts.
# usage: hack/pod-exec.sh [-n NAMESPACE] POD -- CMD [ARGS...]
set -euo pipefail
here=$(dirname "$0")
ns=default
if [ "${1:-}" = "-n" ]; then ns=$2; shift 2; fi
pod=${1:?usage: hack/pod-exec.sh [-n NAMESPACE] POD -- CMD [ARGS...]}; shift
[ "${1:-}" = "--" ] && shift
info=$("$here/kubectl.sh" -n "$ns" get pod "$pod" -o jsonpath='{.spec.nodeName} {.metadata.uid} {.spec.hostNetwork}')
read -r node uid host <<<"$info"
prefix=${SIGNPOST_LOCAL_NS:-signpost-local}
if [ "$host" = "true" ]; then netns="$prefix-$node"; else netns="$prefix-$node-p$(echo "$uid" | tr -d - | cut -c1-10)"; fi
exec ip netns exec "$netns" "$@"
