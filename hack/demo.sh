#!/usr/bin/env bash
# The main job: the tutorial signpost started from (../shared/seed/cluster-networking-tutorial.md)
# replayed step by step with signpost in place of kube-proxy and CoreDNS. It applies the
# tutorial's files from examples/tutorial/ and shows each command and its real output; it waits
# on conditions (rollouts, readiness, a first answer), never on the clock.
#
# usage: hack/demo.sh           on the local cluster: a control plane built here and two nodes made
#                               of network namespaces (hack/local-up.sh), set up from a fresh machine
#        hack/demo.sh --kind    on the kind cluster on podman (hack/kind-up.sh: 3 real nodes), with
#                               the workloads built from Debian packages and kubectl exec into real pods
# Tears the cluster down at the end unless SIGNPOST_DEMO_KEEP=1. SIGNPOST_KIND_CLUSTER names the
# kind cluster (default signpost).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
EX=examples/tutorial
mode=local
case "${1:-}" in
  --kind) mode=kind ;;
  "") ;;
  *) echo "usage: hack/demo.sh [--kind]" >&2; exit 2 ;;
esac
keep() { [ "${SIGNPOST_DEMO_KEEP:-}" = 1 ]; }
trap 'echo "[demo] error: stopped at line $LINENO: $BASH_COMMAND" >&2' ERR

if [ $mode = kind ]; then
  cluster=${SIGNPOST_KIND_CLUSTER:-signpost}
  keep || trap './hack/kind-down.sh' EXIT
  kubeconfig=$(./hack/kind-up.sh | tail -1)
  ./hack/tutorial-images.sh --load "$cluster" >/dev/null
  kubectl_bin="$(./hack/build-control-plane.sh | tail -1)/kubectl"
  kubectl() { "$kubectl_bin" --kubeconfig "$kubeconfig" "$@"; }
  pod_exec() { local pod=$1; shift; kubectl exec "$pod" -- "$@"; }
  node_sh() { podman exec "$1" sh -c "$2"; }
  outside_sh() { sh -c "$1"; }
  outside=host
else
  ./hack/setup.sh
  source hack/lib/node.sh
  ensure_node24
  keep || trap './hack/local-down.sh' EXIT
  ./hack/local-up.sh
  kubectl() { ./hack/kubectl.sh "$@"; }
  pod_exec() { local pod=$1; shift; ./hack/pod-exec.sh "$pod" -- "$@"; }
  node_sh() { ip netns exec "signpost-local-$1" sh -c "$2"; }
  outside_sh() { ip netns exec signpost-local-ext sh -c "$1"; }
  outside=ext
fi

say() { echo; echo "### $*"; }
k() { echo; echo "\$ kubectl $*"; kubectl "$@"; }
kexec() {
  local pod=$1; shift
  echo; if [ "$1" = sh ] && [ "${2:-}" = -c ]; then echo "\$ kubectl exec $pod -- sh -c \"${3:-}\""; else echo "\$ kubectl exec $pod -- $*"; fi
  pod_exec "$pod" "$@"
}
on() { echo; echo "[$1]\$ $2"; node_sh "$1" "$2"; }
from_outside() { echo; echo "[$outside]\$ $1"; outside_sh "$1"; }
show() { local f; for f in "$@"; do echo; echo "--- $EX/$f"; cat "$EX/$f"; done; }
# settle COMMAND...: until COMMAND succeeds (a new Service's rules and name take a moment), 60 s at most.
settle() { for _ in $(seq 60); do "$@" >/dev/null 2>&1 && return 0; sleep 1; done; }
nodes() { kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}'; }

# A cluster kept from an earlier run may still hold the tutorial's objects.
kubectl delete -f "$EX" --ignore-not-found --wait=true >/dev/null 2>&1 || true

say "The cluster: no kube-proxy, no CoreDNS; signpost-proxy on every node, signpost-dns behind kube-dns"
k get nodes -o wide
if [ $mode = local ]; then
  overlay=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).signpostOverlay' "${SIGNPOST_LOCAL_STATE:-/run/signpost-local}/cluster.json")
  echo; echo "(signpost is installed as an operator would: deploy/ with an overlay that only points the proxy at this API server)"
  k apply -k "$overlay"
else
  echo; echo "(hack/kind-up.sh installed signpost as an operator would: kubectl apply -k hack/kind, deploy/ with the kind component)"
fi
k -n kube-system rollout status daemonset/signpost-proxy --timeout=180s
k -n kube-system rollout status deployment/signpost-dns --timeout=180s
k -n kube-system get pods -o wide

say "Pod networking: every pod gets an IP of its node's pod range, reachable from any node"
show nginx-pod1.yaml
k create -f "$EX/nginx-pod1.yaml"
k create -f "$EX/nginx-pod2.yaml"
k wait --for=condition=Ready pod/nginx1 pod/nginx2 --timeout=180s
k get pods -l run=nginx -o wide
for pod in nginx1 nginx2; do
  read -r ip node <<<"$(kubectl get pod "$pod" -o jsonpath='{.status.podIP} {.spec.nodeName}')"
  other=$(nodes | awk -v n="$node" '$1 != n && !found { print $1; found = 1 }')
  on "$other" "curl -s $ip:80 | grep '<h1>'"
done
k delete -f "$EX/nginx-pod1.yaml" -f "$EX/nginx-pod2.yaml"

say "Exposing services: a Deployment of two replicas behind a ClusterIP Service"
show nginx-deploy.yaml nginx-svc.yaml busybox.yaml
k create -f "$EX/nginx-deploy.yaml"
k rollout status deploy/nginx --timeout=180s
k get pods -l run=nginx -o wide
k create -f "$EX/nginx-svc.yaml"
k get services -l run=nginx
k create -f "$EX/busybox.yaml"
k wait --for=condition=Ready pod/busybox --timeout=180s
ip=$(kubectl get service nginx-service -o jsonpath='{.spec.clusterIP}')
settle pod_exec busybox curl -s -m 3 "$ip:80"
k describe service nginx-service
for _ in 1 2 3 4; do kexec busybox sh -c "curl -s -i $ip:80 | grep -i -e x-served-by -e '<h1>'"; done
node=$(kubectl get pod busybox -o jsonpath='{.spec.nodeName}')
echo; echo "(the rules signpost-proxy programmed for it on $node, the busybox pod's node:)"
on "$node" "iptables-save -t nat | grep 'default/nginx-service' | head -6"

say "NodePort: the same Service on a port of every node, from a client outside the cluster"
k delete service nginx-service
show nginx-nodeport-svc.yaml
k create -f "$EX/nginx-nodeport-svc.yaml"
k describe service nginx-service
while read -r name address; do
  settle outside_sh "curl -s -m 3 $address:30090 | grep -q 'Welcome to nginx!'"
  from_outside "curl -s -i $address:30090 | grep -i -e x-served-by -e '<h1>'   # node $name"
done < <(nodes)

say "Service discovery: signpost-dns behind kube-dns"
k -n kube-system get service,deployment -l k8s-app=kube-dns -o wide
k delete service nginx-service
show nginx-svc-8080.yaml
k create -f "$EX/nginx-svc-8080.yaml"
k get all -l run=nginx
settle pod_exec busybox curl -s -m 3 nginx-service:8080
kexec busybox cat /etc/resolv.conf
kexec busybox nslookup nginx-service
kexec busybox sh -c "curl -s -i nginx-service:8080 | grep -i -e x-served-by -e '<h1>'"

say "Accessing services: WordPress and MariaDB, linked by the name mariadb"
show mariadb-deploy.yaml mariadb-svc.yaml wordpress-deploy.yaml wordpress-svc.yaml
k create -f "$EX/mariadb-deploy.yaml"
k create -f "$EX/mariadb-svc.yaml"
k rollout status deploy/mariadb --timeout=300s
k describe service mariadb
k create -f "$EX/wordpress-deploy.yaml"
k create -f "$EX/wordpress-svc.yaml"
echo; echo "(WordPress is Ready once its front page answers, which needs its database: mariadb:3306)"
k rollout status deploy/wordpress --timeout=300s
k get all -l run=blog
address=$(nodes | awk 'NR == 1 { print $2 }')
settle outside_sh "curl -s -m 5 -L $address:31080/ | grep -q '<title>'"
from_outside "curl -s -L $address:31080/ | grep -o '<title>.*</title>'"
if [ $mode = kind ]; then
  echo; echo "(a real WordPress: it installs itself into MariaDB at /wp-admin/install.php)"
  from_outside "curl -s $address:31080/wp-admin/install.php?step=2 -d weblog_title=Signpost -d user_name=admin \
-d admin_password=password -d admin_password2=password -d pw_weak=on -d admin_email=admin@example.com \
| grep -o 'WordPress has been installed[^<]*'"
  from_outside "curl -s $address:31080/ | grep -o '<title>.*</title>'"
  kexec deploy/mariadb mariadb -u bitnami -pbitnami123 workpress -e 'SHOW TABLES'
fi

echo
echo "The tutorial ran on signpost: every Service above went through signpost-proxy's rules and"
echo "every name through signpost-dns."
if keep; then
  echo "The cluster keeps running."
else
  echo "The cluster is being torn down now; SIGNPOST_DEMO_KEEP=1 ./hack/demo.sh${1:+ $1} keeps it."
fi
if [ $mode = kind ]; then
  echo "  export KUBECONFIG=$kubeconfig; $kubectl_bin get pods -A -o wide"
  echo "  podman exec -it ${cluster}-worker bash       # a shell on a node"
  echo "and tear it down with hack/kind-down.sh"
else
  echo "  ./hack/kubectl.sh get pods -A -o wide          # kubectl"
  echo "  ./hack/pod-exec.sh busybox -- sh                # a shell in a pod (the local kubectl exec)"
  echo "  ip netns exec signpost-local-node-1 sh          # a shell on node-1"
  echo "  ip netns exec signpost-local-ext sh             # the external client"
  echo "and tear it down with ./hack/local-down.sh"
fi
