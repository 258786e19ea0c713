#!/usr/bin/env bash
# The node-local DNS layout on a kind cluster made by hack/kind-up.sh (docs/node-local-dns.md):
# applies hack/kind-node-local (deploy/ + deploy/node-local + deploy/kind), then shows, with a
# pod's glibc (getent) and the worker's own iptables and conntrack: the raw NOTRACK rules, the
# node-local replica's request counter, no conntrack entry for the kube-dns ClusterIP; then
# counts lookups under 4 parallel loops (conntrack -S insert_failed before and after), while the
# DaemonSet is rolled, while the worker's replica is SIGKILLed, and in the plain layout (the
# DaemonSet kept off every node). It prints; it asserts nothing.
#   SIGNPOST_KIND_CLUSTER=signpost-nl SIGNPOST_IMAGE=localhost/signpost-nl:0.1.0 hack/kind-up.sh
#   SIGNPOST_KIND_CLUSTER=signpost-nl SIGNPOST_IMAGE=localhost/signpost-nl:0.1.0 hack/kind-node-local.sh
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
CLUSTER=${SIGNPOST_KIND_CLUSTER:-signpost}
IMAGE=${SIGNPOST_IMAGE:-localhost/signpost:0.1.0}
cp_bin=$(./hack/build-control-plane.sh | tail -1)
export KUBECONFIG=${KUBECONFIG:-$HOME/.cache/signpost/kind/$CLUSTER.kubeconfig}
k() { "$cp_bin/kubectl" "$@"; }
worker() { podman exec "$CLUSTER-worker" "$@"; }
NAME=kubernetes.default.svc.cluster.local
# One glibc lookup after another for $1 seconds: how many, how many failed, how many took ≥ 1 s.
LOOP='end=$((SECONDS+$1)); n=0; f=0; slow=0; while [ $SECONDS -lt $end ]; do s=$EPOCHREALTIME; getent ahosts '$NAME' >/dev/null || f=$((f+1)); e=$EPOCHREALTIME; n=$((n+1)); d=$(( (${e/./}-${s/./})/1000 )); [ $d -ge 1000 ] && slow=$((slow+1)); done; echo "lookups=$n failed=$f slow_ge_1s=$slow"'
stats() { worker conntrack -S | awk '{for(i=1;i<=NF;i++){split($i,a,"="); if(a[1]=="insert_failed"||a[1]=="clash_resolve"||a[1]=="drop") s[a[1]]+=a[2]}} END{printf "insert_failed=%d clash_resolve=%d drop=%d\n", s["insert_failed"], s["clash_resolve"], s["drop"]}'; }
race() {
  echo "== $1: 4 parallel lookup loops for 20 s; the worker's conntrack -S before: $(stats)"
  for _ in 1 2 3 4; do k exec nl-client -- bash -c "$LOOP" loop 20 & done
  wait
  echo "   after: $(stats); load average $(cut -d' ' -f1-3 /proc/loadavg)"
}

k kustomize hack/kind-node-local \
  | sed -e "s#https://signpost-control-plane:6443#https://$CLUSTER-control-plane:6443#" -e "s#image: localhost/signpost:0.1.0\$#image: $IMAGE#" \
  | k apply -f - >/dev/null
k -n kube-system rollout status daemonset/signpost-proxy --timeout=300s
k -n kube-system rollout status daemonset/signpost-dns-node-local --timeout=300s
# The client: signpost's own image has bash and glibc's getent, and is on every node already.
cat <<YAML | k apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: { name: nl-client, namespace: default }
spec:
  nodeName: $CLUSTER-worker
  containers: [{ name: c, image: $IMAGE, imagePullPolicy: Never, command: [sleep, "3600"] }]
YAML
k wait --for=condition=Ready pod/nl-client --timeout=180s >/dev/null
echo "== the worker's raw table"; worker iptables -t raw -S
for _ in 1 2 3; do k exec nl-client -- getent ahosts "$NAME" | head -1; done
nodeip=$(k get node "$CLUSTER-worker" -o jsonpath='{.status.addresses[0].address}')
echo "== the worker's node-local replica counted:"; worker sh -c "curl -s http://$nodeip:9253/metrics | grep '^coredns_dns_requests_total'"
echo "== conntrack entries for 10.96.0.10 on the worker:"; worker conntrack -L -d 10.96.0.10 2>&1 | tail -1
race node-local
echo "== the node-local DaemonSet rolled under a lookup loop"
k exec nl-client -- bash -c "$LOOP" loop 60 &
loop=$!
sleep 8
k -n kube-system rollout restart daemonset/signpost-dns-node-local
k -n kube-system rollout status daemonset/signpost-dns-node-local --timeout=120s
wait $loop
echo "== the worker's node-local replica SIGKILLed under a lookup loop"
k exec nl-client -- bash -c "$LOOP" loop 30 &
loop=$!
sleep 8
worker sh -c 'kill -9 $(pgrep -f -- --node-local-interface | head -1)'
wait $loop
echo "== the plain layout: the node-local DaemonSet kept off every node"
k -n kube-system patch daemonset signpost-dns-node-local --type=merge -p '{"spec":{"template":{"spec":{"nodeSelector":{"signpost.dev/no-node-local":"true"}}}}}' >/dev/null
k -n kube-system wait --for=delete pod -l k8s-app=signpost-dns-node-local --timeout=120s >/dev/null
sleep 3
race plain
echo "conntrack entries for 10.96.0.10 on the worker now: $(worker conntrack -L -d 10.96.0.10 2>/dev/null | wc -l)"
k delete pod nl-client --wait=false >/dev/null
