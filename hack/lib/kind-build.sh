# Sourced by hack/kind-node-image.sh and hack/image.sh: the cached builds behind the kind node
# image and signpost's own image. Each function returns at once when its output is cached.
# Heavy steps run under `nice -n 19` with GOMAXPROCS=2: the build machines are shared.
source "$(dirname "${BASH_SOURCE[0]}")/k8s-ldflags.sh"
SIGNPOST_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

K8S_VERSION=${K8S_VERSION:-v1.36.3}
CONTAINERD_VERSION=${CONTAINERD_VERSION:-v2.4.2}
RUNC_VERSION=${RUNC_VERSION:-v1.5.3}
CNI_PLUGINS_VERSION=${CNI_PLUGINS_VERSION:-v1.10.0}
CRICTL_VERSION=${CRICTL_VERSION:-v1.37.0}
KIND_VERSION=${KIND_VERSION:-v0.33.0}
DEBIAN_SUITE=${DEBIAN_SUITE:-bookworm}
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
SIGNPOST_CACHE=${SIGNPOST_CACHE:-$HOME/.cache/signpost}
KIND_CACHE="$SIGNPOST_CACHE/kind"
KIND_BIN="$KIND_CACHE/bin"
DEBIAN_IMAGE="localhost/signpost-debian:$DEBIAN_SUITE"
NODE_IMAGE=${SIGNPOST_NODE_IMAGE:-localhost/signpost-kind-node:$K8S_VERSION}
CNI_PLUGINS=(bridge host-local loopback portmap ptp)
export GOTOOLCHAIN=local

log() { echo "[${SIGNPOST_LOG_PREFIX:-kind-build}] $*" >&2; }
die() { echo "[${SIGNPOST_LOG_PREFIX:-kind-build}] error: $*" >&2; exit 1; }

# run_logged NAME COMMAND...: runs a heavy command niced, its output in $KIND_CACHE/logs/NAME.log;
# on failure shows the end of that log and stops naming the command.
run_logged() {
  local name=$1 t0
  shift
  local out="$KIND_CACHE/logs/$name.log"
  t0=$(date +%s)
  log "$name: $*"
  if ! nice -n 19 env GOMAXPROCS=2 "$@" >"$out" 2>&1; then
    tail -n 25 "$out" >&2
    die "$name failed: '$*' (full output in $out)"
  fi
  log "$name: done in $(($(date +%s) - t0))s"
}

# go_install DIR TAGS LDFLAGS PKG@VERSION...: `go install` into DIR; none of these modules has
# replace directives, so they build straight from the module proxy.
go_install() {
  local dir=$1 tags=$2 ld=$3
  shift 3
  mkdir -p "$dir"
  run_logged "go-install-$(basename "$dir")-$(basename "${1%@*}")" \
    env GOBIN="$dir" GOFLAGS=-buildvcs=false go install -trimpath -tags "$tags" -ldflags "$ld" "$@"
}

# The kubelet and kubeadm come from a module of our own that requires k8s.io/kubernetes, made
# from the control-plane build's go.mod (it already replaces the staging modules).
build_kubelet_kubeadm() {
  local out=$1 cp_src="$SIGNPOST_CACHE/control-plane/src-k8s-$K8S_VERSION"
  local work="$KIND_CACHE/src-k8s-node-$K8S_VERSION"
  [ -f "$cp_src/go.mod" ] || die "no $cp_src/go.mod: run hack/build-control-plane.sh first"
  mkdir -p "$work" "$out"
  if [ ! -f "$work/go.mod" ]; then
    cp "$cp_src/go.mod" "$cp_src/go.sum" "$work/"
    (cd "$work" && go mod edit -module signpost.local/k8s-node-build)
  fi
  printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kubeadm"\n\t_ "k8s.io/kubernetes/cmd/kubelet"\n)\n' >"$work/tools.go"
  (cd "$work" && run_logged go-mod-tidy-k8s-node env GOFLAGS=-mod=mod go mod tidy -e)
  (cd "$work" && run_logged go-build-kubelet-kubeadm env CGO_ENABLED=0 GOFLAGS=-mod=mod \
    go build -tags selinux,notest -trimpath -ldflags "$(k8s_version_ldflags "$K8S_VERSION")" \
    -o "$out/" k8s.io/kubernetes/cmd/kubelet k8s.io/kubernetes/cmd/kubeadm)
}

# build_node_binaries CONTROL_PLANE_BIN: every binary of the node image into
# $KIND_BIN/node-$K8S_VERSION, each built only when missing.
build_node_binaries() {
  local cp_bin=$1
  local d="$KIND_BIN/k8s-$K8S_VERSION"
  { [ -x "$d/kubelet" ] && [ -x "$d/kubeadm" ]; } || build_kubelet_kubeadm "$d"
  [ -x "$d/kubectl" ] || cp "$cp_bin/kubectl" "$d/kubectl"

  d="$KIND_BIN/containerd-$CONTAINERD_VERSION"
  local m=github.com/containerd/containerd/v2 ld="-s -w -X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION"
  local tags="urfave_cli_no_docs no_btrfs no_devmapper no_zfs no_aufs osusergo netgo static_build"
  { [ -x "$d/containerd" ] && [ -x "$d/ctr" ]; } \
    || CGO_ENABLED=0 go_install "$d" "$tags" "$ld" "$m/cmd/containerd@$CONTAINERD_VERSION" "$m/cmd/ctr@$CONTAINERD_VERSION"
  [ -x "$d/containerd-shim-runc-v2" ] \
    || CGO_ENABLED=0 go_install "$d" "$tags no_grpc" "$ld" "$m/cmd/containerd-shim-runc-v2@$CONTAINERD_VERSION"

  # runc needs cgo for libseccomp, linked static like runc's `make static`; -libpathrs: runc
  # 1.5 otherwise links the Rust libpathrs library, which is not on the module proxy.
  d="$KIND_BIN/runc-$RUNC_VERSION"
  if [ ! -x "$d/runc" ]; then
    mkdir -p "$d"
    run_logged go-install-runc env GOBIN="$d" GOFLAGS=-buildvcs=false CGO_ENABLED=1 go install -trimpath \
      -buildmode=pie -tags "seccomp urfave_cli_no_docs netgo osusergo" \
      -ldflags "-X main.gitCommit=$RUNC_VERSION -linkmode external -extldflags -static-pie" \
      "github.com/opencontainers/runc@$RUNC_VERSION"
  fi

  d="$KIND_BIN/cni-plugins-$CNI_PLUGINS_VERSION"
  local p pkgs=() missing=0
  for p in "${CNI_PLUGINS[@]}"; do [ -x "$d/$p" ] || missing=1; done
  if [ $missing -eq 1 ]; then
    for p in main/bridge ipam/host-local main/loopback meta/portmap main/ptp; do
      pkgs+=("github.com/containernetworking/plugins/plugins/$p@$CNI_PLUGINS_VERSION")
    done
    CGO_ENABLED=0 go_install "$d" "" "-s -w" "${pkgs[@]}"
  fi

  d="$KIND_BIN/crictl-$CRICTL_VERSION"
  [ -x "$d/crictl" ] || CGO_ENABLED=0 go_install "$d" "" \
    "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION" "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"

  d="$KIND_BIN/kind-$KIND_VERSION"
  [ -x "$d/kind" ] || CGO_ENABLED=0 go_install "$d" "" "-s -w" "sigs.k8s.io/kind@$KIND_VERSION"

  d="$KIND_BIN/pause-$K8S_VERSION"
  if [ ! -x "$d/pause" ]; then
    local src
    src="$(go env GOMODCACHE)/k8s.io/kubernetes@$K8S_VERSION/build/pause/linux/pause.c"
    [ -f "$src" ] || die "no $src (the k8s.io/kubernetes module should be in the module cache)"
    mkdir -p "$d"
    run_logged gcc-pause gcc -Os -Wall -Werror -static -DVERSION="$K8S_VERSION-signpost" -o "$d/pause" "$src"
  fi
}

kind_binary() { echo "$KIND_BIN/kind-$KIND_VERSION/kind"; }

# The Debian base both images start from: debootstrap minbase, imported into podman. The rootfs
# tarball is cached, so the image comes back without a download after `podman rmi`.
ensure_debian_base() {
  podman image exists "$DEBIAN_IMAGE" && return 0
  local tarball="$KIND_CACHE/debian-$DEBIAN_SUITE-minbase.tar"
  if [ ! -f "$tarball" ]; then
    local rootfs="$KIND_CACHE/debian-$DEBIAN_SUITE-rootfs"
    rm -rf "$rootfs"
    run_logged debootstrap debootstrap --variant=minbase "$DEBIAN_SUITE" "$rootfs" "$DEBIAN_MIRROR"
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
    tar -C "$rootfs" --numeric-owner -cf "$tarball.part" . || die "tar of $rootfs failed"
    mv "$tarball.part" "$tarball"
    rm -rf "$rootfs"
  fi
  run_logged podman-import-debian podman import --change 'CMD ["/bin/bash"]' "$tarball" "$DEBIAN_IMAGE"
}

# recipe_hash FILE...: what an image was built from; a change to a script or a Dockerfile (or a
# version) makes the image be rebuilt.
recipe_hash() {
  { cat "$@"; echo "$K8S_VERSION $CONTAINERD_VERSION $RUNC_VERSION $CNI_PLUGINS_VERSION $CRICTL_VERSION $KIND_VERSION $DEBIAN_SUITE"; } \
    | sha256sum | cut -c1-16
}

image_recipe() { podman image inspect --format '{{ index .Labels "signpost.recipe" }}' "$1" 2>/dev/null || true; }

# The control-plane images, tagged as `kubeadm config images list` says, saved into one archive.
build_control_plane_images() {
  local cp_bin=$1 archive=$2 kubeadm="$KIND_BIN/k8s-$K8S_VERSION/kubeadm"
  local ctx="$KIND_CACHE/ctx-components" list tags=() img name
  list=$("$kubeadm" config images list --kubernetes-version "$K8S_VERSION" 2>/dev/null) \
    || die "'$kubeadm config images list --kubernetes-version $K8S_VERSION' failed"
  rm -rf "$ctx" && mkdir -p "$ctx/tmp"
  for img in $list; do
    name=${img##*/}
    name=${name%%:*}
    case "$name" in
      kube-apiserver | kube-controller-manager | kube-scheduler | etcd)
        cp "$cp_bin/$name" "$ctx/$name"
        run_logged "image-$name" podman build -q -f "$SIGNPOST_ROOT/hack/kind/component.Dockerfile" \
          --build-arg "BINARY=$name" -t "$img" "$ctx"
        tags+=("$img")
        ;;
      pause)
        cp "$KIND_BIN/pause-$K8S_VERSION/pause" "$ctx/pause"
        # kind's containerd config pins the sandbox image at pause:3.10 whatever kubeadm lists.
        run_logged image-pause podman build -q -f "$SIGNPOST_ROOT/hack/kind/pause.Dockerfile" \
          -t "$img" -t registry.k8s.io/pause:3.10 "$ctx"
        tags+=("$img" registry.k8s.io/pause:3.10)
        ;;
      *) log "not preloading $img (signpost replaces it)" ;;
    esac
  done
  rm -f "$archive"
  run_logged save-control-plane-images podman save -m --format docker-archive -o "$archive" "${tags[@]}"
}

# ensure_node_image CONTROL_PLANE_BIN: does what `kind build node-image` does (which needs the
# docker CLI): the node's filesystem from hack/kind/node.Dockerfile, then a containerd started
# inside it imports the control-plane images, then the container is committed.
ensure_node_image() {
  local cp_bin=$1 recipe
  recipe=$(recipe_hash "$SIGNPOST_ROOT/hack/lib/kind-build.sh" "$SIGNPOST_ROOT"/hack/kind/*.Dockerfile)
  if [ "$(image_recipe "$NODE_IMAGE")" = "$recipe" ]; then
    log "cached: $NODE_IMAGE (recipe $recipe)"
    return 0
  fi
  local ctx="$KIND_CACHE/ctx-node" kind_src
  kind_src="$(go env GOMODCACHE)/sigs.k8s.io/kind@$KIND_VERSION/images/base/files"
  [ -d "$kind_src" ] || run_logged go-mod-download-kind env GOFLAGS= go mod download "sigs.k8s.io/kind@$KIND_VERSION"
  [ -d "$kind_src" ] || die "no $kind_src after downloading sigs.k8s.io/kind@$KIND_VERSION"
  rm -rf "$ctx" && mkdir -p "$ctx/bin/cni"
  cp -r "$kind_src" "$ctx/files" && chmod -R u+w "$ctx/files"
  cp "$KIND_BIN/containerd-$CONTAINERD_VERSION"/* "$KIND_BIN/crictl-$CRICTL_VERSION/crictl" \
    "$KIND_BIN/runc-$RUNC_VERSION/runc" "$KIND_BIN/k8s-$K8S_VERSION"/* "$ctx/bin/"
  cp "$KIND_BIN/cni-plugins-$CNI_PLUGINS_VERSION"/* "$ctx/bin/cni/"
  local noimages="localhost/signpost-kind-node-noimages:$K8S_VERSION"
  run_logged build-node-filesystem podman build -f "$SIGNPOST_ROOT/hack/kind/node.Dockerfile" \
    --build-arg "BASE_IMAGE=$DEBIAN_IMAGE" --build-arg "K8S_VERSION=$K8S_VERSION" -t "$noimages" "$ctx"

  local archive="$KIND_CACHE/control-plane-images-$K8S_VERSION.tar"
  build_control_plane_images "$cp_bin" "$archive"

  local box=signpost-kind-node-build
  podman rm -f -t 0 "$box" >/dev/null 2>&1 || true
  trap 'podman rm -f -t 0 signpost-kind-node-build >/dev/null 2>&1 || true' EXIT
  run_logged node-build-container podman run -d --name "$box" --entrypoint sleep \
    --security-opt seccomp=unconfined "$noimages" infinity
  run_logged node-start-containerd podman exec "$box" bash -c \
    'nohup containerd >/tmp/containerd.log 2>&1 & echo $! >/tmp/containerd.pid
     for _ in $(seq 100); do ctr version >/dev/null 2>&1 && exit 0; sleep 0.2; done
     cat /tmp/containerd.log; exit 1'
  log "importing the control-plane images into the node's containerd"
  podman exec -i "$box" ctr -n k8s.io images import --label=io.cri-containerd.pinned=pinned \
    --all-platforms --no-unpack --digests - <"$archive" >"$KIND_CACHE/logs/ctr-import.log" 2>&1 \
    || { tail -n 20 "$KIND_CACHE/logs/ctr-import.log" >&2; die "'ctr -n k8s.io images import' in $box failed"; }
  # `sleep` as PID 1 reaps nobody: containerd is gone once it is a zombie.
  podman exec "$box" bash -c 'pid=$(cat /tmp/containerd.pid); kill "$pid"
    while [ -e "/proc/$pid" ] && ! grep -q "^State:.*Z" "/proc/$pid/status" 2>/dev/null; do sleep 0.1; done
    rm -f /tmp/containerd.*' \
    || die "stopping containerd in $box failed"
  run_logged node-commit podman commit -q \
    --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' \
    --change "LABEL signpost.recipe=$recipe" "$box" "$NODE_IMAGE"
  podman rm -f -t 0 "$box" >/dev/null
  trap - EXIT
  log "built $NODE_IMAGE ($(podman image inspect --format '{{.Size}}' "$NODE_IMAGE" | numfmt --to=si)B)"
}
