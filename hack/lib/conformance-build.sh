# Sourced by hack/conformance.sh (after kind-build.sh): the cached builds behind Kubernetes'
# conformance run here: the e2e.test binary, the test images the selected tests pull, and the
# reference cluster's kube-proxy and CoreDNS images. Everything comes from the Go module proxy and
# Debian packages, since no registry is reachable; each function returns at once when cached.
CONFORMANCE_CACHE="$SIGNPOST_CACHE/conformance"

# A module of our own that requires k8s.io/kubernetes, made from the control-plane build's go.mod
# (which already replaces the staging modules with their published versions).
e2e_module() {
  local cp_src="$SIGNPOST_CACHE/control-plane/src-k8s-$K8S_VERSION"
  local work="$CONFORMANCE_CACHE/src-e2e-$K8S_VERSION"
  [ -f "$cp_src/go.mod" ] || die "no $cp_src/go.mod: run hack/build-control-plane.sh first"
  mkdir -p "$work"
  if [ ! -f "$work/go.mod" ]; then
    cp "$cp_src/go.mod" "$cp_src/go.sum" "$work/"
    (cd "$work" && go mod edit -module signpost.local/k8s-e2e-build)
    printf '//go:build tools\n\npackage tools\n\nimport (\n\t_ "k8s.io/kubernetes/cmd/kube-proxy"\n\t_ "k8s.io/kubernetes/test/e2e"\n\t_ "k8s.io/kubernetes/test/images/agnhost"\n)\n' >"$work/tools.go"
    (cd "$work" && run_logged go-mod-tidy-e2e env GOFLAGS=-mod=mod go mod tidy -e)
  fi
  echo "$work"
}

# ensure_ginkgo: the ginkgo CLI at the version e2e.test links, which runs the specs in parallel.
ensure_ginkgo() {
  local bin="$CONFORMANCE_CACHE/bin-$K8S_VERSION" work
  [ -x "$bin/ginkgo" ] && return 0
  work=$(e2e_module)
  mkdir -p "$bin"
  (cd "$work" && run_logged go-build-ginkgo env CGO_ENABLED=0 GOFLAGS=-mod=mod \
    go build -trimpath -o "$bin/ginkgo" github.com/onsi/ginkgo/v2/ginkgo)
}

# ensure_e2e_test: $CONFORMANCE_CACHE/bin-$K8S_VERSION/e2e.test, built with `go test -c` from the
# module above (-mod=mod lets go add what the suite's _test.go files import).
ensure_e2e_test() {
  local bin="$CONFORMANCE_CACHE/bin-$K8S_VERSION" work
  if [ -x "$bin/e2e.test" ]; then
    log "cached: $bin/e2e.test"
    return 0
  fi
  work=$(e2e_module)
  mkdir -p "$bin"
  (cd "$work" && run_logged go-test-c-e2e env CGO_ENABLED=0 GOFLAGS=-mod=mod \
    go test -c -trimpath -tags selinux -ldflags "$(k8s_version_ldflags "$K8S_VERSION")" \
    -o "$bin/e2e.test.part" k8s.io/kubernetes/test/e2e)
  mv "$bin/e2e.test.part" "$bin/e2e.test"
}

# ensure_go_binaries: agnhost and kube-proxy from the same module as e2e.test.
ensure_go_binaries() {
  local bin="$CONFORMANCE_CACHE/bin-$K8S_VERSION" work
  { [ -x "$bin/agnhost" ] && [ -x "$bin/kube-proxy" ]; } && return 0
  work=$(e2e_module)
  mkdir -p "$bin"
  (cd "$work" && run_logged go-build-agnhost-kube-proxy env CGO_ENABLED=0 GOFLAGS=-mod=mod \
    go build -trimpath -tags selinux,notest -ldflags "$(k8s_version_ldflags "$K8S_VERSION")" \
    -o "$bin/" k8s.io/kubernetes/test/images/agnhost k8s.io/kubernetes/cmd/kube-proxy)
}

kubeadm_images() {
  "$KIND_BIN/k8s-$K8S_VERSION/kubeadm" config images list --kubernetes-version "$K8S_VERSION" 2>/dev/null \
    || die "'kubeadm config images list --kubernetes-version $K8S_VERSION' failed"
}

# coredns_binary: CoreDNS at the version kubeadm lists for the reference cluster, which the test
# images carry at /coredns as well (hack/build-coredns.sh, niced).
coredns_binary() {
  local version
  version=$(kubeadm_images | sed -n 's#.*/coredns:##p')
  COREDNS_VERSION=$version nice -n 19 env GOMAXPROCS=2 "$SIGNPOST_ROOT/hack/build-coredns.sh" 2>>"$KIND_CACHE/logs/build-coredns.log" | tail -1
}

# build_image DOCKERFILE TAG CONTEXT: podman build from our Debian base, skipped when TAG was
# built from the same recipe (the Dockerfile, the versions and the binaries copied in).
build_image() {
  local dockerfile=$1 tag=$2 ctx=$3 recipe
  recipe=$({ recipe_hash "$dockerfile"; find "$ctx" -type f -exec sha256sum {} + | sort; } | sha256sum | cut -c1-16)
  if [ "$(image_recipe "$tag")" = "$recipe" ]; then
    log "cached: $tag"
    return 0
  fi
  run_logged "image-$(basename "$dockerfile" .Dockerfile)" podman build -q -f "$dockerfile" \
    --build-arg "BASE_IMAGE=$DEBIAN_IMAGE" --label "signpost.recipe=$recipe" -t "$tag" "$ctx"
}

# image_context NAME FILE...: a fresh build context holding FILE...
image_context() {
  local ctx="$CONFORMANCE_CACHE/ctx-$1"
  shift
  rm -rf "$ctx" && mkdir -p "$ctx/tmp"
  [ $# -eq 0 ] || cp "$@" "$ctx/"
  echo "$ctx"
}

# ensure_test_images TAG...: builds each test image the run needs (agnhost, busybox,
# glibc-dns-testing, nginx), tagged as e2e.test names it under KUBE_TEST_REPO_LIST.
ensure_test_images() {
  local bin="$CONFORMANCE_CACHE/bin-$K8S_VERSION" dir="$SIGNPOST_ROOT/test/conformance/images"
  local agnhost_src coredns tag name
  agnhost_src="$(go env GOMODCACHE)/k8s.io/kubernetes@$K8S_VERSION/test/images/agnhost"
  ensure_debian_base
  ensure_go_binaries
  coredns=$(coredns_binary)
  for tag in "$@"; do
    name=${tag##*/}
    name=${name%%:*}
    case "$name" in
      agnhost) build_image "$dir/agnhost.Dockerfile" "$tag" "$(image_context agnhost "$bin/agnhost" \
        "$coredns" "$agnhost_src/porter/localhost.crt" "$agnhost_src/porter/localhost.key")" ;;
      busybox) build_image "$dir/busybox.Dockerfile" "$tag" "$(image_context busybox)" ;;
      nginx) build_image "$dir/nginx.Dockerfile" "$tag" "$(image_context nginx)" ;;
      glibc-dns-testing) build_image "$dir/glibc-dns-testing.Dockerfile" "$tag" "$(image_context glibc "$coredns")" ;;
      *) die "no recipe for the test image $tag" ;;
    esac
  done
}

# ensure_reference_images: kube-proxy and CoreDNS tagged as `kubeadm config images list` says.
ensure_reference_images() {
  local bin="$CONFORMANCE_CACHE/bin-$K8S_VERSION" dir="$SIGNPOST_ROOT/test/conformance/images"
  local list img
  list=$(kubeadm_images)
  ensure_debian_base
  ensure_go_binaries
  for img in $list; do
    case "$img" in
      */kube-proxy:*) build_image "$dir/kube-proxy.Dockerfile" "$img" \
        "$(image_context kube-proxy "$bin/kube-proxy" "$SIGNPOST_ROOT/hack/image/iptables-wrapper")" ;;
      */coredns:*) build_image "$dir/coredns.Dockerfile" "$img" "$(image_context coredns "$(coredns_binary)")" ;;
    esac
  done
  echo "$list" | grep -E '/(kube-proxy|coredns):'
}

# load_images CLUSTER TAG...: into every node of the kind cluster, through one archive (kind's
# `load docker-image` runs the docker CLI whatever the provider).
load_images() {
  local cluster=$1 archive="$CONFORMANCE_CACHE/load-$1.tar"
  shift
  rm -f "$archive"
  run_logged "save-images-$cluster" podman save -m --format docker-archive -o "$archive" "$@"
  run_logged "load-images-$cluster" "$(kind_binary)" load image-archive "$archive" --name "$cluster"
  rm -f "$archive"
}
