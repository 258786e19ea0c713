#!/usr/bin/env bash
# Builds the Kubernetes control plane (kube-apiserver, kube-controller-manager, kube-scheduler,
# kubectl; kube-proxy on request) and etcd from the Go module proxy into a cache outside the
# checkout, keyed by version. A second run finds the binaries and does nothing.
#
# usage: hack/build-control-plane.sh [--with-kube-proxy]
# prints the bin directory on its last line.
set -euo pipefail
source "$(dirname "$0")/lib/k8s-ldflags.sh"

K8S_VERSION=${K8S_VERSION:-v1.36.3}
ETCD_VERSION=${ETCD_VERSION:-v3.6.16}
CACHE=${SIGNPOST_CACHE:-$HOME/.cache/signpost}
BIN="$CACHE/control-plane/k8s-$K8S_VERSION-etcd-$ETCD_VERSION/bin"
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS=-mod=mod

log() { echo "[build-control-plane] $*" >&2; }
die() { echo "[build-control-plane] error: $*" >&2; exit 1; }

k8s_cmds=(kube-apiserver kube-controller-manager kube-scheduler kubectl)
[[ "${1:-}" == "--with-kube-proxy" ]] && k8s_cmds+=(kube-proxy)

command -v go >/dev/null || die "go is not on PATH (need Go >= 1.26 for Kubernetes $K8S_VERSION)"

missing=()
for c in "${k8s_cmds[@]}" etcd; do [[ -x "$BIN/$c" ]] || missing+=("$c"); done
if [[ ${#missing[@]} -eq 0 ]]; then
  log "cached: $BIN"
  echo "$BIN"
  exit 0
fi
log "to build: ${missing[*]} (Kubernetes $K8S_VERSION, etcd $ETCD_VERSION) into $BIN"
mkdir -p "$BIN"

# Kubernetes: k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with
# ./staging paths, which `go install pkg@version` refuses. A module of our own requires it and
# points each v0.0.0 staging module at its published v0.<minor>.<patch> twin, read from the
# downloaded go.mod so a new staging module (cri-streaming, streaming in 1.36) is not missed.
build_kubernetes() {
  local work="$CACHE/control-plane/src-k8s-$K8S_VERSION"
  mkdir -p "$work"
  cd "$work"
  [[ -f go.mod ]] || go mod init signpost.local/k8s-build >/dev/null 2>&1
  log "downloading k8s.io/kubernetes@$K8S_VERSION"
  local modfile
  modfile=$(go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  [[ -f "$modfile" ]] || die "could not download k8s.io/kubernetes@$K8S_VERSION from the Go module proxy"
  local staging_version="v0.${K8S_VERSION#v1.}"
  local staging
  staging=$(awk '/^require \(/{r=1;next} r&&/^\)/{r=0} r&&$2=="v0.0.0"{print $1}' "$modfile")
  [[ -n "$staging" ]] || die "no v0.0.0 staging modules found in $modfile"
  log "replacing $(echo "$staging" | wc -l) staging modules with $staging_version"
  local args=(-require="k8s.io/kubernetes@$K8S_VERSION")
  for m in $staging; do args+=(-replace="$m=$m@$staging_version"); done
  go mod edit "${args[@]}"
  local pkgs=()
  for c in "${k8s_cmds[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  printf 'package tools\n\nimport (\n' >tools.go
  for p in "${pkgs[@]}"; do printf '\t_ "%s"\n' "$p" >>tools.go; done
  printf ')\n' >>tools.go
  sed -i '1s/^/\/\/go:build tools\n\n/' tools.go
  log "resolving dependencies (go mod tidy)"
  go mod tidy -e 2>&1 | grep -v '^go: downloading' >&2 || true
  local ld
  ld=$(k8s_version_ldflags "$K8S_VERSION")
  log "building ${k8s_cmds[*]} (this takes many minutes on a cold cache)"
  if ! go build -tags selinux,notest -trimpath -ldflags "$ld" -o "$BIN/" "${pkgs[@]}" 2>build.err; then
    cat build.err >&2
    die "go build of k8s.io/kubernetes@$K8S_VERSION (${pkgs[*]}) failed; the Go error is above"
  fi
}

# etcd: go.etcd.io/etcd/server/v3 has package main at its root.
build_etcd() {
  local work="$CACHE/control-plane/src-etcd-$ETCD_VERSION"
  mkdir -p "$work"
  cd "$work"
  [[ -f go.mod ]] || go mod init signpost.local/etcd-build >/dev/null 2>&1
  log "downloading go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" 2>&1 | grep -v '^go: downloading' >&2 \
    || die "could not get go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  log "building etcd"
  if ! go build -trimpath -ldflags "-s -w" -o "$BIN/etcd" go.etcd.io/etcd/server/v3 2>build.err; then
    cat build.err >&2
    die "go build of go.etcd.io/etcd/server/v3@$ETCD_VERSION failed; the Go error is above"
  fi
}

start=$(date +%s)
need_k8s=0
for c in "${missing[@]}"; do [[ "$c" != etcd ]] && need_k8s=1; done
[[ -x "$BIN/etcd" ]] || build_etcd
[[ $need_k8s -eq 0 ]] || build_kubernetes
for c in "${k8s_cmds[@]}" etcd; do [[ -x "$BIN/$c" ]] || die "$c was not produced in $BIN"; done
log "done in $(($(date +%s) - start))s"
ls -l "$BIN" >&2
echo "$BIN"
