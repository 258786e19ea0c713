#!/usr/bin/env bash
# Builds the kind node image for Kubernetes $K8S_VERSION without a registry: every binary from
# the Go module proxy (kubelet, kubeadm, containerd 2, runc, CNI plugins, crictl, kind) or the
# Kubernetes module (pause), a Debian base from debootstrap imported into podman, and the
# control-plane images made from the control-plane build and preloaded into the node's
# containerd. Everything lands in the cache ($SIGNPOST_CACHE/kind) keyed by version; a second
# run finds it and only checks.
#
# usage: hack/kind-node-image.sh      prints the node image's name on its last line
# Sets up the host for podman and kind first (hack/lib/kind-host.sh). Needs root.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
source "$root/hack/lib/kind-host.sh"
source "$root/hack/lib/kind-build.sh"

start=$(date +%s)
ensure_kind_host || die "the host set-up failed (see above)"
command -v go >/dev/null || die "go is not on PATH (need Go >= 1.26)"
mkdir -p "$KIND_CACHE/logs"

cp_bin=$("$root/hack/build-control-plane.sh" | tail -1)
[ -x "$cp_bin/kube-apiserver" ] || die "hack/build-control-plane.sh gave no kube-apiserver in $cp_bin"

build_node_binaries "$cp_bin"
ensure_debian_base
ensure_node_image "$cp_bin"
log "node image $NODE_IMAGE ready in $(($(date +%s) - start))s"
echo "$NODE_IMAGE"
