#!/usr/bin/env bash
# Creates a kind cluster without kube-proxy and CoreDNS (deploy/kind/cluster.yaml), builds
# signpost's image, loads it into the nodes and applies deploy/. Needs docker and kind, which the
# machines that build this project do not have: there, the local cluster of network namespaces
# (hack/local-up.sh) stands in. This script has not been run on them.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
for tool in docker kind kubectl; do
  command -v "$tool" >/dev/null || { echo "error: $tool is not installed" >&2; exit 1; }
done
docker info >/dev/null 2>&1 || { echo "error: no Docker engine answers (docker info failed)" >&2; exit 1; }
tag=${SIGNPOST_IMAGE:-signpost/signpost:0.1.0}
docker build -t "$tag" .
kind get clusters | grep -qx signpost || kind create cluster --config deploy/kind/cluster.yaml
kind load docker-image "$tag" --name signpost
kubectl --context kind-signpost apply -k deploy/
kubectl --context kind-signpost -n kube-system rollout status daemonset/signpost-proxy --timeout=180s
kubectl --context kind-signpost -n kube-system rollout status deployment/signpost-dns --timeout=180s
kubectl --context kind-signpost get nodes,svc -A
