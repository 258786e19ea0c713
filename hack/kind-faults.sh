#!/usr/bin/env bash
# The fault suite on the kind cluster of hack/kind-up.sh (made when missing): a client pod on the
# control-plane node sends HTTP requests without pause to a Service by its short name (a DNS
# lookup through signpost-dns, then signpost-proxy's rules) backed by two nginx replicas on the
# workers, and logs each one, payload-checked (nginx's page and the replica in X-Served-By).
# Meanwhile, one after the other:
#   1. the API server is down: its static pod manifest moved out of the control-plane node;
#   2. the signpost-proxy container on the client's node is killed (SIGKILL through crictl);
#   3. the signpost-dns pods are deleted, one, then the other;
#   4. signpost's DaemonSet and Deployment are restarted (a rolling update of both);
#   5. a worker with a backend is drained.
# Every request of each phase is counted: answered by a replica, or failed (with why). A phase
# FAILs when a request fails; the table at the end has the counts.
#
# usage: hack/kind-faults.sh [--down]     SIGNPOST_KIND_CLUSTER names the cluster (default signpost)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

SIGNPOST_LOG_PREFIX=kind-faults
source hack/lib/kind-check.sh
NS=signpost-faults
CP="$CLUSTER-control-plane"
start=$(date +%s)
kind_cluster "$@"
images=$(./hack/tutorial-images.sh --load "$CLUSTER") || fail "hack/tutorial-images.sh --load $CLUSTER"
nginx_image=$(grep /nginx: <<<"$images")
client_image=$(grep /busybox: <<<"$images")

api_up() { kubectl get --raw /readyz; }
api_down() { ! kubectl get --raw /readyz --request-timeout=2s; }

kubectl delete namespace "$NS" --ignore-not-found --wait=true >/dev/null
kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata: { name: $NS }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: $NS }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm: { topologyKey: kubernetes.io/hostname, labelSelector: { matchLabels: { app: web } } }
      containers:
        - name: nginx
          image: $nginx_image
          ports: [{ containerPort: 80 }]
          readinessProbe: { httpGet: { path: /, port: 80 }, periodSeconds: 1 }
          # A replica told to stop keeps serving until every node has dropped it from the
          # Service, as a well-behaved workload does (nginx stops accepting at once on SIGQUIT):
          # the drain then measures the proxy, not nginx's shutdown.
          lifecycle: { preStop: { exec: { command: [sleep, "5"] } } }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: $NS }
spec:
  selector: { app: web }
  ports: [{ port: 80, targetPort: 80 }]
---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: $NS }
spec:
  nodeSelector: { node-role.kubernetes.io/control-plane: "" }
  tolerations: [{ key: node-role.kubernetes.io/control-plane, effect: NoSchedule }]
  containers:
    - name: client
      image: $client_image
      command:
        - sh
        - -c
        - |
          while :; do
            t=\$(date +%s.%N)
            out=\$(curl -s -i --connect-timeout 2 -m 4 -w 'timing: dns=%{time_namelookup} connect=%{time_connect} ip=%{remote_ip}\n' http://web/ 2>&1); rc=\$?
            by=\$(printf '%s\n' "\$out" | sed -n 's/^X-Served-By: *\([^[:space:]]*\).*/\1/p' | head -1)
            timing=\$(printf '%s\n' "\$out" | sed -n 's/^timing: //p')
            if [ -n "\$by" ] && printf '%s' "\$out" | grep -q 'Welcome to nginx!'; then r="ok \$by"; else r="fail curl-rc=\$rc \$timing"; fi
            echo "\$t \$r" >>/tmp/requests
          done
EOF
kubectl -n "$NS" rollout status deployment/web --timeout=180s >/dev/null || fail "the web Deployment did not become ready"
kubectl -n "$NS" wait --for=condition=Ready pod/client --timeout=180s >/dev/null || fail "the client pod did not become ready"
until_true 60 "the client's requests did not start succeeding" \
  sh -c "'$cp_bin/kubectl' --kubeconfig '$kubeconfig' -n $NS exec client -- grep -q ' ok ' /tmp/requests"
log "client on $(kubectl -n "$NS" get pod client -o jsonpath='{.spec.nodeName}'); backends: $(kubectl -n "$NS" get pods -l app=web -o jsonpath='{range .items[*]}{.metadata.name}@{.spec.nodeName} {end}')"

results=()
lossy=0
phase_start=0
begin() { phase_start=$(date +%s.%N); log "phase: $1"; }
# end NAME: counts the client's requests since begin, after 5 s more of traffic.
end() {
  sleep 5
  local stop n ok bad why
  stop=$(date +%s.%N)
  until_true 120 "the client's log could not be read after '$1'" kubectl -n "$NS" exec client -- true
  read -r n ok bad why < <(kubectl -n "$NS" exec client -- cat /tmp/requests | awk -v a="$phase_start" -v b="$stop" '
    $1 >= a && $1 < b { n++; if ($2 == "ok") ok++; else { bad++; why[$3]++ } }
    END { w = ""; for (k in why) w = w k "x" why[k] " "; printf "%d %d %d %s\n", n, ok, bad, w }')
  results+=("$(printf '%-52s %8d %6d %6d   %s' "$1" "$n" "$ok" "$bad" "$why")")
  log "  $n requests: $ok answered by a replica, $bad failed $why"
  kubectl -n "$NS" exec client -- cat /tmp/requests | awk -v a="$phase_start" -v b="$stop" '$1 >= a && $1 < b && $2 != "ok" { print "[kind-faults]   failed:", $0 }' >&2
  [ "$bad" -eq 0 ] || lossy=$((lossy + 1))
}

# 1. The API server down for 30 s of traffic.
begin "API server down"
podman exec "$CP" mv /etc/kubernetes/manifests/kube-apiserver.yaml /etc/kubernetes/kube-apiserver.yaml.moved
until_true 120 "the API server did not stop after its manifest was moved" api_down
log "  the API server is down"
sleep 30
podman exec "$CP" mv /etc/kubernetes/kube-apiserver.yaml.moved /etc/kubernetes/manifests/kube-apiserver.yaml
until_true 180 "the API server did not come back" api_up
log "  the API server is back"
end "API server down 30 s"

# 2. signpost-proxy killed on the client's node; the kubelet restarts it.
begin "signpost-proxy killed"
proxy_pod=$(kubectl -n kube-system get pods -l k8s-app=signpost-proxy --field-selector "spec.nodeName=$CP" -o jsonpath='{.items[0].metadata.name}')
restarts=$(kubectl -n kube-system get pod "$proxy_pod" -o jsonpath='{.status.containerStatuses[0].restartCount}')
cid=$(podman exec "$CP" crictl ps --name signpost-proxy -q | awk 'NR == 1')
[ -n "$cid" ] || fail "no signpost-proxy container on $CP"
podman exec "$CP" crictl stop -t 0 "$cid" >/dev/null
until_true 120 "$proxy_pod was not restarted" \
  sh -c "[ \"\$('$cp_bin/kubectl' --kubeconfig '$kubeconfig' -n kube-system get pod $proxy_pod -o jsonpath='{.status.containerStatuses[0].restartCount}')\" -gt $restarts ]"
kubectl -n kube-system wait --for=condition=Ready "pod/$proxy_pod" --timeout=120s >/dev/null || fail "$proxy_pod not Ready after its restart"
end "signpost-proxy killed on $CP"

# 3. The signpost-dns pods deleted, one after the other.
begin "signpost-dns pods deleted"
for pod in $(kubectl -n kube-system get pods -l k8s-app=kube-dns -o jsonpath='{.items[*].metadata.name}'); do
  kubectl -n kube-system delete pod "$pod" --wait=true >/dev/null
  kubectl -n kube-system rollout status deployment/signpost-dns --timeout=180s >/dev/null || fail "signpost-dns did not recover after $pod was deleted"
done
end "signpost-dns pods deleted one by one"

# 4. A rolling update of both daemons.
begin "rolling update"
kubectl -n kube-system rollout restart daemonset/signpost-proxy deployment/signpost-dns >/dev/null
kubectl -n kube-system rollout status daemonset/signpost-proxy --timeout=300s >/dev/null || fail "the signpost-proxy rollout did not finish"
kubectl -n kube-system rollout status deployment/signpost-dns --timeout=300s >/dev/null || fail "the signpost-dns rollout did not finish"
end "rolling update of signpost's DaemonSet + Deployment"

# 5. A worker with a backend drained, then uncordoned.
worker=$(kubectl -n "$NS" get pods -l app=web -o jsonpath='{.items[0].spec.nodeName}')
begin "drain $worker"
# --force: pods without a controller (the tutorial's busybox, if it is still there) go as well.
kubectl drain "$worker" --ignore-daemonsets --delete-emptydir-data --force --timeout=300s >/dev/null 2>&1 \
  || { kubectl uncordon "$worker" >/dev/null; fail "kubectl drain $worker --ignore-daemonsets --delete-emptydir-data --force"; }
kubectl -n "$NS" rollout status deployment/web --timeout=180s >/dev/null || fail "web did not recover after the drain of $worker"
end "worker $worker drained"
kubectl uncordon "$worker" >/dev/null

kubectl delete namespace "$NS" --wait=false >/dev/null
echo >&2
printf '%-52s %8s %6s %6s   %s\n' phase requests ok failed "failures by cause" >&2
printf '%s\n' "${results[@]}" >&2
[ "$lossy" -eq 0 ] || fail "$lossy phase(s) lost requests (see the table)"
echo "[kind-faults] PASS in $(($(date +%s) - start))s: no request lost" >&2
