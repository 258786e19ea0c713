#!/usr/bin/env bash
# A kind cluster on podman (1 control plane, 2 workers) without kube-proxy and CoreDNS
# (deploy/kind/cluster.yaml), signpost in their place: builds or finds the node image and
# signpost's image, creates the cluster, installs the pod network, loads the image into the
# nodes, applies deploy/ with the kind component (hack/kind) and waits for signpost to be ready.
# A cluster left by an interrupted run is deleted and made again; a healthy one is reused.
#
# usage: hack/kind-up.sh     then: export KUBECONFIG=$(hack/kind-up.sh | tail -1)
# prints the cluster's kubeconfig path on its last line. hack/kind-down.sh removes it all.
# SIGNPOST_KIND_CLUSTER names the cluster (default signpost), so that several can run side by
# side; SIGNPOST_IMAGE names signpost's image (hack/image.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source hack/lib/kind-host.sh
source hack/lib/kind-build.sh
source hack/lib/kind-cni.sh

CLUSTER=${SIGNPOST_KIND_CLUSTER:-signpost}
SIGNPOST_LOG_PREFIX="kind-up"
KUBECONFIG_FILE="$KIND_CACHE/$CLUSTER.kubeconfig"
export KIND_EXPERIMENTAL_PROVIDER=podman
start=$(date +%s)

step=""
on_exit() {
  local rc=$?
  [ $rc -eq 0 ] && return
  echo "[kind-up] error: failed at: $step" >&2
  if podman ps -a --filter "label=io.x-k8s.kind.cluster=$CLUSTER" --format '{{.Names}}' 2>/dev/null | grep -q .; then
    echo "[kind-up] the half-made cluster '$CLUSTER' is left running for inspection (KUBECONFIG=$KUBECONFIG_FILE);" \
      "hack/kind-down.sh removes it, and hack/kind-up.sh deletes and remakes it" >&2
  fi
}
trap on_exit EXIT
run() { step="$*"; "$@"; }

run ensure_kind_host
step=hack/kind-node-image.sh
node_image=$(./hack/kind-node-image.sh | tail -1)
step=hack/image.sh
image=$(./hack/image.sh | tail -1)
cp_bin=$(./hack/build-control-plane.sh | tail -1)
kind=$(kind_binary)
kubectl() { "$cp_bin/kubectl" --kubeconfig "$KUBECONFIG_FILE" "$@"; }

healthy() {
  [ -f "$KUBECONFIG_FILE" ] || return 1
  [ "$(kubectl get nodes --no-headers 2>/dev/null | awk '$2 == "Ready"' | wc -l)" -eq 3 ]
}

if "$kind" get clusters 2>/dev/null | grep -qx "$CLUSTER" && ! healthy; then
  log "cluster '$CLUSTER' exists but is not 3 Ready nodes (an interrupted run?): deleting it"
  run "$kind" delete cluster --name "$CLUSTER" --kubeconfig "$KUBECONFIG_FILE"
fi
fresh=0
if ! "$kind" get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  fresh=1
  t0=$(date +%s)
  rm -f "$KUBECONFIG_FILE"
  run "$kind" create cluster --name "$CLUSTER" --config deploy/kind/cluster.yaml --image "$node_image" --kubeconfig "$KUBECONFIG_FILE"
  log "cluster created in $(($(date +%s) - t0))s"
fi
run install_kind_cni kubectl
step="waiting for 3 Ready nodes"
kubectl wait --for=condition=Ready node --all --timeout=180s >/dev/null

# kind's `load docker-image` runs the docker CLI whatever the provider: go through an archive.
archive="$KIND_CACHE/$CLUSTER-signpost-image.tar"
run podman save --format docker-archive -o "$archive" "$image"
run "$kind" load image-archive "$archive" --name "$CLUSTER"
rm -f "$archive"

# deploy/kind names the default cluster's control-plane node and image; another cluster's node
# and image are put in their place in the rendered manifests.
step="kubectl kustomize hack/kind | kubectl apply -f -"
kubectl kustomize hack/kind \
  | sed -e "s#https://signpost-control-plane:6443#https://$CLUSTER-control-plane:6443#" \
        -e "s#image: localhost/signpost:0.1.0\$#image: $image#" \
  | kubectl apply -f - >/dev/null
# A reloaded image under the same tag reaches running pods only through a restart.
[ $fresh -eq 1 ] || run kubectl -n kube-system rollout restart daemonset/signpost-proxy deployment/signpost-dns
run kubectl -n kube-system rollout status daemonset/signpost-proxy --timeout=300s
run kubectl -n kube-system rollout status deployment/signpost-dns --timeout=300s
step="checking that kube-proxy and CoreDNS are absent"
if kubectl -n kube-system get daemonset kube-proxy >/dev/null 2>&1 || kubectl -n kube-system get deployment coredns >/dev/null 2>&1; then
  echo "[kind-up] error: kube-proxy or CoreDNS is installed; deploy/kind/cluster.yaml's skipPhases did not apply" >&2
  exit 1
fi
log "signpost is ready on kind in $(($(date +%s) - start))s; KUBECONFIG=$KUBECONFIG_FILE"
echo "$KUBECONFIG_FILE"
