#!/usr/bin/env bash
# The kind smoke test: on the cluster hack/kind-up.sh makes (created when missing), checks what
# an operator replacing kube-proxy and CoreDNS would check first, through real pods:
#   - a signpost-proxy pod Ready on every node, signpost-dns ready, no kube-proxy, no CoreDNS;
#   - a ClusterIP Service with 2 echo backends on the workers, reached from a pod on the control
#     plane, every answer naming a backend and both backends answering;
#   - the Service's name, full and short, resolved in that pod through signpost-dns, and
#     reached by that name.
# Payloads are checked, never bare connects: this machine's network accepts any connection.
#
# usage: hack/kind-smoke.sh [--down]     --down removes the cluster afterwards (hack/kind-down.sh)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
SIGNPOST_LOG_PREFIX=kind-smoke
source hack/lib/kind-build.sh
source hack/lib/kind-check.sh

NS=signpost-smoke
ECHO_IMAGE=localhost/signpost-echo:1
start=$(date +%s)
kind_cluster "$@"

# The echo image, loaded into the nodes the way kind-up loads signpost's.
podman build -q -f hack/kind/echo.Dockerfile --build-arg "BASE_IMAGE=$DEBIAN_IMAGE" -t "$ECHO_IMAGE" hack/kind >/dev/null \
  || fail "podman build of $ECHO_IMAGE (hack/kind/echo.Dockerfile)"
archive="$KIND_CACHE/$CLUSTER-signpost-echo.tar"
podman save --format docker-archive -o "$archive" "$ECHO_IMAGE" && "$(kind_binary)" load image-archive "$archive" --name "$CLUSTER" >/dev/null \
  || fail "loading $ECHO_IMAGE into the nodes"
rm -f "$archive"

# 1. signpost in place of kube-proxy and CoreDNS.
nodes=$(kubectl get nodes -o jsonpath='{.items[*].metadata.name}' | tr ' ' '\n' | sort)
proxy_nodes=$(kubectl -n kube-system get pods -l k8s-app=signpost-proxy \
  -o jsonpath='{range .items[?(@.status.containerStatuses[0].ready==true)]}{.spec.nodeName}{"\n"}{end}' | sort)
[ "$proxy_nodes" = "$nodes" ] || fail "ready signpost-proxy pods on [$(echo $proxy_nodes)], nodes are [$(echo $nodes)]"
ok "a ready signpost-proxy pod on each of $(echo $nodes)"
dns_ready=$(kubectl -n kube-system get deployment signpost-dns -o jsonpath='{.status.readyReplicas}')
[ "${dns_ready:-0}" -ge 1 ] || fail "signpost-dns has no ready replica"
ok "signpost-dns has $dns_ready ready replicas"
others=$(kubectl get pods -A --no-headers -o custom-columns=NAME:.metadata.name | grep -E '^(kube-proxy|coredns)' || true)
kubectl -n kube-system get daemonset kube-proxy >/dev/null 2>&1 && fail "the kube-proxy DaemonSet exists"
kubectl -n kube-system get deployment coredns >/dev/null 2>&1 && fail "the CoreDNS Deployment exists"
[ -z "$others" ] || fail "kube-proxy or CoreDNS pods exist: $others"
ok "no kube-proxy and no CoreDNS"

# 2. Two backends on the workers, a client on the control plane.
kubectl delete namespace "$NS" --ignore-not-found --wait=true >/dev/null
kubectl apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Namespace
metadata: { name: $NS }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: echo, namespace: $NS }
spec:
  replicas: 2
  selector: { matchLabels: { app: echo } }
  template:
    metadata: { labels: { app: echo } }
    spec:
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            - topologyKey: kubernetes.io/hostname
              labelSelector: { matchLabels: { app: echo } }
      containers:
        - name: echo
          image: $ECHO_IMAGE
          imagePullPolicy: Never
          ports: [{ containerPort: 8080 }]
          readinessProbe: { httpGet: { path: /, port: 8080 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: echo, namespace: $NS }
spec:
  selector: { app: echo }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: $NS }
spec:
  nodeSelector: { node-role.kubernetes.io/control-plane: "" }
  tolerations: [{ key: node-role.kubernetes.io/control-plane, effect: NoSchedule }]
  containers:
    - name: client
      image: $ECHO_IMAGE
      imagePullPolicy: Never
      command: [sleep, infinity]
EOF
kubectl -n "$NS" rollout status deployment/echo --timeout=180s >/dev/null || fail "the echo Deployment did not become ready"
kubectl -n "$NS" wait --for=condition=Ready pod/client --timeout=180s >/dev/null || fail "the client pod did not become ready"
backends=$(kubectl -n "$NS" get pods -l app=echo -o jsonpath='{range .items[*]}{.metadata.name} {.spec.nodeName}{"\n"}{end}')
client_node=$(kubectl -n "$NS" get pod client -o jsonpath='{.spec.nodeName}')
echo "$backends" | awk -v c="$client_node" '$2 == c { exit 1 }' || fail "a backend runs on the client's node $client_node"
ok "backends: $(echo $backends); client on $client_node"

cluster_ip=$(kubectl -n "$NS" get service echo -o jsonpath='{.spec.clusterIP}')
# get TARGET: one HTTP request from the client pod, printing the body's last line.
get() { kubectl -n "$NS" exec client -- sh -c "printf 'GET / HTTP/1.0\r\n\r\n' | busybox nc -w 3 $1 80 | tail -n 1" 2>/dev/null || true; }
seen=""
for i in $(seq 40); do
  body=$(get "$cluster_ip")
  echo "$backends" | awk -v b="$body" '$1 == b { found = 1 } END { exit !found }' \
    || fail "request $i to $cluster_ip:80 answered '$body', not a backend's name"
  case " $seen " in *" $body "*) ;; *) seen="$seen $body" ;; esac
  [ "$(echo $seen | wc -w)" -eq 2 ] && break
done
[ "$(echo $seen | wc -w)" -eq 2 ] || fail "only$seen answered through $cluster_ip in 40 requests"
ok "ClusterIP $cluster_ip:80 reached both backends from another node:$seen"

# 3. The Service's names through signpost-dns (the pod's resolv.conf names the kube-dns ClusterIP).
resolver=$(kubectl -n "$NS" exec client -- sh -c 'sed -n "s/^nameserver //p" /etc/resolv.conf' | head -1)
dns_ip=$(kubectl -n kube-system get service kube-dns -o jsonpath='{.spec.clusterIP}')
[ "$resolver" = "$dns_ip" ] || fail "the client's resolver is $resolver, not kube-dns's $dns_ip"
for name in "echo.$NS.svc.cluster.local" echo; do
  answer=$(kubectl -n "$NS" exec client -- getent hosts "$name" | awk '{ print $1 }' || true)
  [ "$answer" = "$cluster_ip" ] || fail "getent hosts $name in the client answered '$answer', not $cluster_ip"
  ok "$name resolves to $cluster_ip through signpost-dns ($dns_ip)"
done
body=$(get "echo.$NS.svc.cluster.local")
echo "$backends" | awk -v b="$body" '$1 == b { found = 1 } END { exit !found }' \
  || fail "a request to echo.$NS.svc.cluster.local answered '$body', not a backend's name"
ok "echo.$NS.svc.cluster.local:80 answered by $body"

kubectl delete namespace "$NS" --wait=false >/dev/null
echo "[kind-smoke] PASS in $(($(date +%s) - start))s" >&2
