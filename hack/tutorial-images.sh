#!/usr/bin/env bash
# Builds the tutorial's workload images from Debian packages with podman, no registry
# (hack/kind/tutorial/*.Dockerfile on the debootstrap'd Debian base), and with --load loads them
# into a kind cluster's nodes. Each image is built once: its tag names a hash of its recipe and
# of the base image, and a second run that finds that tag only checks. The manifests in
# examples/tutorial/ use the stable tag :bookworm, which points at the newest build; an
# explicit tag (not :latest) keeps the kubelet's pull policy at IfNotPresent, since no registry
# serves these names.
#
# usage: hack/tutorial-images.sh [--load CLUSTER]     prints the images' names, one a line
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source hack/lib/kind-host.sh
source hack/lib/kind-build.sh

SIGNPOST_LOG_PREFIX=tutorial-images
TUTORIAL_IMAGES=(nginx busybox mariadb wordpress)
TAG=bookworm
load=""
case "${1:-}" in
  --load) load=${2:?usage: hack/tutorial-images.sh [--load CLUSTER]} ;;
  "") ;;
  *) die "usage: hack/tutorial-images.sh [--load CLUSTER]" ;;
esac
export KIND_EXPERIMENTAL_PROVIDER=podman

ensure_kind_host || die "the host set-up failed (see above)"
mkdir -p "$KIND_CACHE/logs"
ensure_debian_base
base_id=$(podman image inspect --format '{{.Id}}' "$DEBIAN_IMAGE")

names=()
for name in "${TUTORIAL_IMAGES[@]}"; do
  repo="localhost/tutorial/$name"
  # The recipe: the Dockerfile and the files next to it that it copies (named after the image).
  hash=$({ echo "$base_id"; cat hack/kind/tutorial/"$name"[.-]*; } | sha256sum | cut -c1-16)
  if podman image exists "$repo:$hash"; then
    log "cached: $repo:$hash"
    podman tag "$repo:$hash" "$repo:$TAG"
  else
    run_logged "tutorial-image-$name" podman build -f "hack/kind/tutorial/$name.Dockerfile" \
      --build-arg "BASE_IMAGE=$DEBIAN_IMAGE" -t "$repo:$hash" -t "$repo:$TAG" hack/kind/tutorial
  fi
  names+=("$repo:$TAG")
done

if [ -n "$load" ]; then
  # kind's `load docker-image` runs the docker CLI whatever the provider: go through an archive,
  # with only the images some node lacks (the node's containerd keeps podman's image ID).
  nodes=$(podman ps --filter "label=io.x-k8s.kind.cluster=$load" --format '{{.Names}}')
  [ -n "$nodes" ] || die "no running node of the kind cluster '$load' (hack/kind-up.sh makes it)"
  missing=()
  for image in "${names[@]}"; do
    id=$(podman image inspect --format '{{.Id}}' "$image")
    for node in $nodes; do
      have=$(podman exec "$node" crictl inspecti -o go-template --template '{{.status.id}}' "$image" 2>/dev/null || true)
      if [ "$have" != "sha256:$id" ]; then missing+=("$image"); break; fi
    done
  done
  if [ ${#missing[@]} -eq 0 ]; then
    log "every node of '$load' has the images already"
  else
    archive="$KIND_CACHE/$load-tutorial-images.tar"
    run_logged tutorial-images-save podman save -m --format docker-archive -o "$archive" "${missing[@]}"
    run_logged tutorial-images-load "$(kind_binary)" load image-archive "$archive" --name "$load"
    rm -f "$archive"
  fi
fi
printf '%s\n' "${names[@]}"
