#!/usr/bin/env bash
# Removes what hack/kind-up.sh and the kind smoke test made: the kind cluster's containers and
# volumes, the podman network "kind" once no container uses it, the node-image build container
# if one was left, the kubeconfig, and the images made to be loaded into the nodes (signpost's,
# the echo backend). The node image and its bases, and the tutorial's workload images
# (hack/tutorial-images.sh), stay cached for the next kind-up, unless --purge is given. Safe to
# run twice or when nothing is up.
#
# usage: hack/kind-down.sh [--purge]     SIGNPOST_KIND_CLUSTER names the cluster (default signpost)
set -euo pipefail
SIGNPOST_CACHE=${SIGNPOST_CACHE:-$HOME/.cache/signpost}
KIND_CACHE="$SIGNPOST_CACHE/kind"
CLUSTER=${SIGNPOST_KIND_CLUSTER:-signpost}
LABEL="io.x-k8s.kind.cluster=$CLUSTER"
export KIND_EXPERIMENTAL_PROVIDER=podman

log() { echo "[kind-down] $*" >&2; }
command -v podman >/dev/null || { log "podman is not installed: nothing to remove"; exit 0; }

kind=$(ls "$KIND_CACHE"/bin/kind-*/kind 2>/dev/null | tail -1 || true)
if [ -n "$kind" ] && "$kind" get clusters 2>/dev/null | grep -qx "$CLUSTER"; then
  log "deleting kind cluster '$CLUSTER'"
  "$kind" delete cluster --name "$CLUSTER" --kubeconfig "$KIND_CACHE/$CLUSTER.kubeconfig" >&2 || log "kind delete cluster failed; removing its containers directly"
fi
# Whatever kind did not remove (an interrupted create leaves containers kind may not list).
containers=$(podman ps -a --filter "label=$LABEL" --format '{{.Names}}')
[ -z "$containers" ] || { log "removing containers: $(echo $containers)"; podman rm -f -v $containers >/dev/null; }
podman rm -f signpost-kind-node-build >/dev/null 2>&1 || true
volumes=$(podman volume ls --filter "label=$LABEL" --format '{{.Name}}')
[ -z "$volumes" ] || { log "removing volumes: $(echo $volumes)"; podman volume rm -f $volumes >/dev/null; }
if podman network exists kind 2>/dev/null; then
  if [ -z "$(podman ps -a --filter network=kind --format '{{.Names}}')" ]; then
    log "removing podman network kind"
    podman network rm kind >/dev/null
  else
    log "keeping podman network kind: other containers use it"
  fi
fi
rm -f "$KIND_CACHE/$CLUSTER.kubeconfig" "$KIND_CACHE/$CLUSTER-signpost-image.tar" "$KIND_CACHE/$CLUSTER-tutorial-images.tar"

images=(localhost/signpost localhost/signpost-echo)
[ "${1:-}" = "--purge" ] && images+=(localhost/signpost-kind-node localhost/signpost-kind-node-noimages localhost/signpost-debian \
  localhost/tutorial/nginx localhost/tutorial/busybox localhost/tutorial/mariadb localhost/tutorial/wordpress)
for repo in "${images[@]}"; do
  ids=$(podman images --filter "reference=$repo" --format '{{.Repository}}:{{.Tag}}')
  [ -z "$ids" ] || { log "removing images: $(echo $ids)"; podman rmi -f $ids >/dev/null; }
done
if [ "${1:-}" = "--purge" ]; then
  # The control-plane images the node image preloads were built here under registry.k8s.io names.
  ids=$(podman images --filter "label=signpost.component" --format '{{.ID}}' | sort -u)
  [ -z "$ids" ] || podman rmi -f $ids >/dev/null
  podman image prune -f >/dev/null
fi
log "done"
