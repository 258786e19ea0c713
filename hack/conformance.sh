#!/usr/bin/env bash
# Kubernetes' own sig-network conformance specs (e2e.test from k8s.io/kubernetes, built here)
# against a kind cluster where signpost replaces kube-proxy and CoreDNS, then against a reference
# kind cluster with the real kube-proxy and CoreDNS (built here too); writes both JUnit reports
# and generates docs/conformance.md from them. The selection and the reason for every spec left
# out live in test/conformance/selection.ts.
#
# usage: hack/conformance.sh            the whole selection, signpost then reference (npm run test:conformance)
#        hack/conformance.sh --subset   a few Services and DNS conformance specs, signpost only (CI)
# Exits 1 when a selected spec fails with signpost and passes with the reference (--subset: when
# any fails). One cluster at a time, each deleted afterwards: "signpost-conf", then "reference".
# CONFORMANCE_NODES sets ginkgo's parallelism (default 4); results go to $CONFORMANCE_OUT
# (default ~/.cache/signpost/conformance/results/<time>).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source hack/lib/node.sh
source hack/lib/kind-host.sh
source hack/lib/kind-build.sh
source hack/lib/kind-cni.sh
source hack/lib/conformance-build.sh

subset=0
case "${1:-}" in
  --subset) subset=1 ;;
  "") ;;
  *) echo "usage: hack/conformance.sh [--subset]" >&2; exit 2 ;;
esac

SIGNPOST_LOG_PREFIX=conformance
SIGNPOST_CLUSTER=signpost-conf
REFERENCE_CLUSTER=reference
export SIGNPOST_IMAGE=${SIGNPOST_IMAGE:-localhost/signpost:conformance}
export KIND_EXPERIMENTAL_PROVIDER=podman
NODES=${CONFORMANCE_NODES:-4}
OUT=${CONFORMANCE_OUT:-$CONFORMANCE_CACHE/results/$(date -u +%Y%m%dT%H%M%SZ)}
BIN="$CONFORMANCE_CACHE/bin-$K8S_VERSION"
SERVICE_CIDR=10.96.0.0/16 # deploy/kind/cluster.yaml and test/conformance/reference-cluster.yaml
start=$(date +%s)
mkdir -p "$OUT" "$KIND_CACHE/logs"

ensure_kind_host || die "the host set-up failed (see above)"
ensure_node24 || die "Node.js 24 is needed for the report"
cp_bin=$(./hack/build-control-plane.sh | tail -1)
# Also builds kubeadm, whose image list names the reference's images and CoreDNS's version.
node_image=$(./hack/kind-node-image.sh | tail -1)
kind=$(kind_binary)

t0=$(date +%s)
ensure_e2e_test
ensure_ginkgo
log "e2e.test and ginkgo ready in $(($(date +%s) - t0))s"

# The test images under a registry name of our own, so that no pod can mistake them for
# upstream's: e2e.test maps its registry through KUBE_TEST_REPO_LIST.
export KUBE_TEST_REPO_LIST="$OUT/repo-list.yaml"
echo "promoterE2eRegistry: localhost/signpost-e2e-test-images" >"$KUBE_TEST_REPO_LIST"
# The selected specs use agnhost, busybox, glibc-dns-testing and nginx; the list also names the
# older agnhost (AgnhostPrev) and the newer nginx (NginxNew) that other specs use. A version bump
# that changes this fails here, loudly, rather than with a pod that cannot pull its image.
mapfile -t test_images < <("$BIN/e2e.test" --list-images 2>/dev/null \
  | grep -E '^localhost/signpost-e2e-test-images/(agnhost|busybox|glibc-dns-testing|nginx):' \
  | grep -vE '/agnhost:2\.55$' | grep -vE '/nginx:1\.27' )
[ "${#test_images[@]}" -eq 4 ] || die "expected 4 test images from 'e2e.test --list-images', got: ${test_images[*]}"
t0=$(date +%s)
ensure_test_images "${test_images[@]}"
log "test images ready in $(($(date +%s) - t0))s: ${test_images[*]}"

mapfile -t filters < <(node test/conformance/generate.ts --filters $([ $subset -eq 1 ] && echo --subset))

# run_suite CLUSTER KUBECONFIG: the selection with ginkgo, JUnit into $OUT/CLUSTER/junit_01.xml.
run_suite() {
  local cluster=$1 kubeconfig=$2 rc=0 t
  mkdir -p "$OUT/$cluster"
  t=$(date +%s)
  log "running e2e.test against '$cluster' ($NODES in parallel), log in $OUT/$cluster/e2e.log"
  nice -n 10 "$BIN/ginkgo" --nodes="$NODES" --focus="${filters[0]}" --skip="${filters[1]}" \
    --timeout=2h --no-color "$BIN/e2e.test" -- \
    --kubeconfig="$kubeconfig" --provider=skeleton --report-dir="$OUT/$cluster" \
    >"$OUT/$cluster/e2e.log" 2>&1 || rc=$?
  log "e2e.test against '$cluster' ended (exit $rc) in $(($(date +%s) - t))s"
  [ -f "$OUT/$cluster/junit_01.xml" ] || { tail -n 40 "$OUT/$cluster/e2e.log" >&2; die "no JUnit report from the run against '$cluster'"; }
}

delete_cluster() { "$kind" delete cluster --name "$1" >/dev/null 2>&1 || true; }

# contain_service_cidr CLUSTER: on each node, rejects what is still addressed to the Service
# range after the proxy's DNAT and its own filter rules (appended, so the proxy decides first),
# i.e. a Service IP on a port no Service has. Without it such a
# packet follows the node's default route out of the cluster, and this machine accepts every TCP
# connection anywhere, so the specs that check a port has stopped answering ("same port and
# different protocols") would see an answer that no cluster sent. Applied to both clusters alike.
contain_service_cidr() {
  local node chain
  for node in $("$kind" get nodes --name "$1"); do
    for chain in FORWARD OUTPUT; do
      podman exec "$node" sh -c "iptables -C $chain -d $SERVICE_CIDR -p tcp -j REJECT --reject-with tcp-reset 2>/dev/null \
        || { iptables -A $chain -d $SERVICE_CIDR -p tcp -j REJECT --reject-with tcp-reset && iptables -A $chain -d $SERVICE_CIDR -j REJECT; }" \
        || die "adding the Service range's REJECT rules on node $node failed"
    done
  done
}

# --- signpost ---
t0=$(date +%s)
kubeconfig=$(SIGNPOST_KIND_CLUSTER=$SIGNPOST_CLUSTER ./hack/kind-up.sh | tail -1)
trap 'delete_cluster $SIGNPOST_CLUSTER' EXIT
load_images "$SIGNPOST_CLUSTER" "${test_images[@]}"
contain_service_cidr "$SIGNPOST_CLUSTER"
log "cluster '$SIGNPOST_CLUSTER' with signpost ready in $(($(date +%s) - t0))s"
run_suite "$SIGNPOST_CLUSTER" "$kubeconfig"
delete_cluster "$SIGNPOST_CLUSTER"
trap - EXIT

report_args=(--signpost "$OUT/$SIGNPOST_CLUSTER/junit_01.xml" --k8s-version "$K8S_VERSION")
if [ $subset -eq 1 ]; then
  rc=0
  node test/conformance/generate.ts "${report_args[@]}" --out "$OUT/conformance-subset.md" || rc=$?
  log "subset done in $(($(date +%s) - start))s; summary in $OUT/conformance-subset.md"
  exit $rc
fi

# --- reference: kube-proxy and CoreDNS, as kind installs them by default ---
t0=$(date +%s)
mapfile -t reference_images < <(ensure_reference_images)
log "reference images ready in $(($(date +%s) - t0))s: ${reference_images[*]}"
t0=$(date +%s)
ref_kubeconfig="$KIND_CACHE/$REFERENCE_CLUSTER.kubeconfig"
delete_cluster "$REFERENCE_CLUSTER"
trap 'delete_cluster $REFERENCE_CLUSTER' EXIT
run_logged kind-create-reference "$kind" create cluster --name "$REFERENCE_CLUSTER" \
  --config test/conformance/reference-cluster.yaml --image "$node_image" --kubeconfig "$ref_kubeconfig"
kubectl() { "$cp_bin/kubectl" --kubeconfig "$ref_kubeconfig" "$@"; }
install_kind_cni kubectl || die "the pod network of '$REFERENCE_CLUSTER' failed"
kubectl wait --for=condition=Ready node --all --timeout=180s >/dev/null
load_images "$REFERENCE_CLUSTER" "${test_images[@]}" "${reference_images[@]}"
contain_service_cidr "$REFERENCE_CLUSTER"
# Their pods started before the images were there: start them again rather than wait for the
# image pull back-off to run out.
kubectl -n kube-system delete pod -l k8s-app=kube-proxy --wait=false >/dev/null
# This machine's upstream resolvers (the nodes' resolv.conf: podman's aardvark-dns and the host's)
# answer over UDP only; CoreDNS forwards a TCP question over TCP and turns the refusal into
# SERVFAIL, which ends a `dig +tcp +search` at the node's "dns.podman" search domain. prefer_udp
# (CoreDNS's own option) forwards over UDP as signpost-dns does; nothing else in kubeadm's
# Corefile changes.
kubectl -n kube-system get configmap coredns -o yaml \
  | sed 's#^\( *\)forward \. /etc/resolv\.conf {$#&\n\1   prefer_udp#' | kubectl apply -f - >/dev/null
kubectl -n kube-system get configmap coredns -o jsonpath='{.data.Corefile}' | grep -q prefer_udp \
  || die "could not add prefer_udp to the reference cluster's Corefile"
kubectl -n kube-system delete pod -l k8s-app=kube-dns --wait=false >/dev/null
kubectl -n kube-system rollout status daemonset/kube-proxy --timeout=300s >/dev/null
kubectl -n kube-system rollout status deployment/coredns --timeout=300s >/dev/null
log "cluster '$REFERENCE_CLUSTER' with kube-proxy and CoreDNS ready in $(($(date +%s) - t0))s"
run_suite "$REFERENCE_CLUSTER" "$ref_kubeconfig"
delete_cluster "$REFERENCE_CLUSTER"
trap - EXIT

rc=0
coredns_tag=$(printf '%s\n' "${reference_images[@]}" | sed -n 's#.*/coredns:##p')
node test/conformance/generate.ts "${report_args[@]}" --reference "$OUT/$REFERENCE_CLUSTER/junit_01.xml" \
  --reference-description "kube-proxy $K8S_VERSION (iptables mode) and CoreDNS $coredns_tag, both built here, as kind installs them, except for \`prefer_udp\` in CoreDNS's forward block (this machine's upstream resolvers answer over UDP only)" \
  --out docs/conformance.md || rc=$?
cp docs/conformance.md "$OUT/"
log "done in $(($(date +%s) - start))s; docs/conformance.md written, reports in $OUT"
exit $rc
