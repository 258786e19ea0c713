#!/usr/bin/env bash
# The tutorial (../shared/seed/cluster-networking-tutorial.md) as a test on the kind cluster of
# hack/kind-up.sh (made when missing): its manifests from examples/tutorial/, its workloads from
# Debian packages (hack/tutorial-images.sh), signpost in place of kube-proxy and CoreDNS. Checks:
#   - pods on different nodes reach each other by pod IP;
#   - a ClusterIP Service reaches both nginx replicas;
#   - a NodePort answers on every node's address from the host, outside the cluster;
#   - Service names, short and full, resolve through signpost-dns, and answer by name;
#   - WordPress reaches MariaDB by the name mariadb and installs itself through the NodePort,
#     its tables in the database afterwards.
# Every answer's payload is checked (nginx's page and its X-Served-By header name the replica):
# this machine's network accepts any TCP connection, so a bare connect proves nothing.
#
# usage: hack/kind-tutorial.sh [--down]     --down removes the cluster afterwards (hack/kind-down.sh)
# SIGNPOST_KIND_CLUSTER names the cluster (default signpost).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

SIGNPOST_LOG_PREFIX=kind-tutorial
source hack/lib/kind-check.sh
EX=examples/tutorial
start=$(date +%s)
kind_cluster "$@"
./hack/tutorial-images.sh --load "$CLUSTER" >/dev/null || fail "hack/tutorial-images.sh --load $CLUSTER"
ready_at=$(date +%s)

# served_by OUTPUT: the replica an nginx answer (curl -i) names, if it is nginx's welcome page.
served_by() {
  grep -q 'Welcome to nginx!' <<<"$1" || return 0
  awk 'tolower($1) == "x-served-by:" && !found { sub(/\r$/, "", $2); print $2; found = 1 }' <<<"$1"
}
in_busybox() { kubectl exec busybox -- "$@" 2>/dev/null || true; }
# is_one_of WORD LIST: WORD is a word of LIST.
is_one_of() { [ -n "$1" ] && case " $(echo $2) " in *" $1 "*) true ;; *) false ;; esac; }
# both_replicas CHECK URL FROM: up to 40 requests through CHECK (which sets $got to the replica
# that answered) until both replicas have answered; FAIL on an answer from no replica, or when
# one never answers. Leaves the replicas seen in $seen.
both_replicas() {
  local check=$1 url=$2 from=$3 i
  seen=""
  for i in $(seq 40); do
    "$check" "$url" || fail "$from, request $i to $url answered '$got', not a replica of $(echo $names)"
    is_one_of "$got" "$seen" || seen="$seen $got"
    [ "$(echo $seen | wc -w)" -eq 2 ] && return 0
  done
  fail "only$seen answered through $url in 40 requests"
}

# Whatever an earlier run left in the namespace the tutorial uses.
kubectl delete -f "$EX" --ignore-not-found --wait=true >/dev/null 2>&1 || true

# 1. Pod networking: two pods, reached by pod IP from another node.
kubectl apply -f "$EX/nginx-pod1.yaml" -f "$EX/nginx-pod2.yaml" >/dev/null
kubectl wait --for=condition=Ready pod/nginx1 pod/nginx2 --timeout=180s >/dev/null || fail "nginx1 and nginx2 did not become Ready"
cp_node="$CLUSTER-control-plane"
for pod in nginx1 nginx2; do
  read -r ip node <<<"$(kubectl get pod "$pod" -o jsonpath='{.status.podIP} {.spec.nodeName}')"
  [ "$node" != "$cp_node" ] || fail "$pod runs on the control-plane node"
  got=$(served_by "$(podman exec "$cp_node" curl -s -i -m 5 "http://$ip/" || true)")
  [ "$got" = "$pod" ] || fail "curl http://$ip/ on node $cp_node answered '$got', not $pod's nginx page"
  ok "$pod ($ip, on $node) answers its page to node $cp_node"
done
kubectl delete -f "$EX/nginx-pod1.yaml" -f "$EX/nginx-pod2.yaml" --wait=true >/dev/null

# 2. A Deployment of two replicas on two nodes behind a ClusterIP Service, a client pod.
kubectl apply -f "$EX/nginx-deploy.yaml" -f "$EX/nginx-svc.yaml" -f "$EX/busybox.yaml" >/dev/null
kubectl rollout status deploy/nginx --timeout=180s >/dev/null || fail "deploy/nginx did not roll out"
kubectl wait --for=condition=Ready pod/busybox --timeout=180s >/dev/null || fail "the busybox pod did not become Ready"
replicas=$(kubectl get pods -l run=nginx -o jsonpath='{range .items[*]}{.metadata.name} {.status.podIP} {.spec.nodeName}{"\n"}{end}')
names=$(awk '{ print $1 }' <<<"$replicas")
client_node=$(kubectl get pod busybox -o jsonpath='{.spec.nodeName}')
[ "$(awk '{ print $3 }' <<<"$replicas" | sort -u | wc -l)" -eq 2 ] || fail "the nginx replicas share a node: $(echo $replicas)"
read -r far_name far_ip far_node <<<"$(awk -v c="$client_node" '$3 != c && !found { print; found = 1 }' <<<"$replicas")"
[ -n "$far_name" ] || fail "no nginx replica on a node other than busybox's $client_node"
got=$(served_by "$(in_busybox curl -s -i -m 5 "http://$far_ip/")")
[ "$got" = "$far_name" ] || fail "from busybox on $client_node, http://$far_ip/ answered '$got', not $far_name"
ok "pod to pod across nodes: busybox on $client_node reached $far_name on $far_node"

cluster_ip=$(kubectl get service nginx-service -o jsonpath='{.spec.clusterIP}')
through_service() { got=$(served_by "$(in_busybox curl -s -i -m 5 "$1")"); is_one_of "$got" "$names"; }
eventually 30 through_service "http://$cluster_ip/" || fail "http://$cluster_ip/ (nginx-service) from busybox answered '$got', not a replica"
both_replicas through_service "http://$cluster_ip/" "from busybox"
ok "ClusterIP $cluster_ip:80 reached both replicas from busybox:$seen"

# 3. NodePort, from the host: every node's address on the podman network, the control plane's
# included (it runs no replica).
kubectl delete -f "$EX/nginx-svc.yaml" --wait=true >/dev/null
kubectl apply -f "$EX/nginx-nodeport-svc.yaml" >/dev/null
node_port=$(kubectl get service nginx-service -o jsonpath='{.spec.ports[0].nodePort}')
from_host() { got=$(served_by "$(curl -s -i -m 5 "$1" || true)"); is_one_of "$got" "$names"; }
for node_ip in $(kubectl get nodes -o jsonpath='{.items[*].status.addresses[?(@.type=="InternalIP")].address}'); do
  eventually 30 from_host "http://$node_ip:$node_port/" || fail "from the host, http://$node_ip:$node_port/ answered '$got', not a replica"
  both_replicas from_host "http://$node_ip:$node_port/" "from the host"
  ok "NodePort $node_ip:$node_port from the host reached both replicas:$seen"
done

# 4. Service discovery: the tutorial's nginx-service on port 8080, by name, through signpost-dns.
kubectl delete -f "$EX/nginx-nodeport-svc.yaml" --wait=true >/dev/null
kubectl apply -f "$EX/nginx-svc-8080.yaml" >/dev/null
cluster_ip=$(kubectl get service nginx-service -o jsonpath='{.spec.clusterIP}')
dns_ip=$(kubectl -n kube-system get service kube-dns -o jsonpath='{.spec.clusterIP}')
dns_pods=$(kubectl -n kube-system get endpointslices -l kubernetes.io/service-name=kube-dns \
  -o jsonpath='{range .items[*].endpoints[*]}{.targetRef.name}{"\n"}{end}' | sort -u)
[ -n "$dns_pods" ] && ! grep -qv '^signpost-dns-' <<<"$dns_pods" || fail "kube-dns's endpoints are [$(echo $dns_pods)], not signpost-dns pods"
resolv=$(in_busybox cat /etc/resolv.conf)
grep -q "^nameserver $dns_ip\$" <<<"$resolv" || fail "busybox's resolv.conf does not name kube-dns $dns_ip: $resolv"
grep -q '^search default.svc.cluster.local svc.cluster.local cluster.local' <<<"$resolv" || fail "busybox's resolv.conf lacks the search path: $resolv"
grep -q 'ndots:5' <<<"$resolv" || fail "busybox's resolv.conf lacks ndots:5: $resolv"
ok "busybox resolves through kube-dns $dns_ip, served by $(echo $dns_pods)"
resolves() { got=$(in_busybox dig +short +search "$1" | tail -1); [ "$got" = "$cluster_ip" ]; }
for name in nginx-service nginx-service.default nginx-service.default.svc.cluster.local; do
  eventually 30 resolves "$name" || fail "dig +search $name in busybox answered '$got', not $cluster_ip"
  ok "$name resolves to $cluster_ip"
done
looked_up=$(in_busybox nslookup nginx-service)
grep -q "Address: $cluster_ip" <<<"$looked_up" || fail "nslookup nginx-service in busybox: $looked_up"
ok "nslookup nginx-service answers $cluster_ip (server $dns_ip)"
eventually 30 through_service "http://nginx-service:8080/" || fail "http://nginx-service:8080/ from busybox answered '$got', not a replica"
ok "http://nginx-service:8080/ answered by $got"

# 5. WordPress and MariaDB, linked by the name mariadb; WordPress installed through the NodePort.
kubectl apply -f "$EX/mariadb-deploy.yaml" -f "$EX/mariadb-svc.yaml" >/dev/null
kubectl rollout status deploy/mariadb --timeout=300s >/dev/null || fail "deploy/mariadb did not roll out"
kubectl apply -f "$EX/wordpress-deploy.yaml" -f "$EX/wordpress-svc.yaml" >/dev/null
# Ready means WordPress answers /, which it does only once it has reached its database.
kubectl rollout status deploy/wordpress --timeout=300s >/dev/null || fail "deploy/wordpress did not become ready (its database: mariadb)"
wp_log=$(kubectl logs deploy/wordpress | grep -m1 'wordpress-entrypoint: database' || true)
grep -q ' at mariadb:3306 ' <<<"$wp_log" || fail "WordPress is not configured with the database host mariadb:3306: $wp_log"
wp_node=$(kubectl get pods -l run=blog -o jsonpath='{.items[0].spec.nodeName}')
node_ips=$(kubectl get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}')
near_ip=$(awk -v n="$wp_node" '$1 == n { print $2 }' <<<"$node_ips")
far_ip=$(awk -v n="$wp_node" '$1 != n && !found { print $2; found = 1 }' <<<"$node_ips")
wp=http://$far_ip:31080
title() { curl -s -L -m 10 "$1" | sed -n 's:.*<title>\(.*\)</title>.*:\1:p' | awk 'NR == 1' || true; }
install_page() { got=$(title "$wp/"); [ "$got" = "WordPress &rsaquo; Installation" ]; }
eventually 30 install_page || fail "from the host, $wp/ (a node without WordPress) led to '$got', not WordPress's installation page"
ok "$wp/ leads to WordPress's installation page"
installed=$(curl -s -m 120 "$wp/wp-admin/install.php?step=2" --data-urlencode "weblog_title=Signpost on kind" \
  --data-urlencode user_name=admin --data-urlencode admin_password=password --data-urlencode admin_password2=password \
  --data-urlencode pw_weak=on --data-urlencode admin_email=admin@example.com --data-urlencode blog_public=0 || true)
grep -q 'WordPress has been installed' <<<"$installed" \
  || fail "POST $wp/wp-admin/install.php?step=2 did not install WordPress: $(sed -e 's/<[^>]*>//g' <<<"$installed" | grep -v '^\s*$' | head -5)"
ok "WordPress installed itself through $wp"
got=$(title "http://$near_ip:31080/")
[ "$got" = "Signpost on kind" ] || fail "from the host, http://$near_ip:31080/ shows the title '$got', not the blog's"
ok "http://$near_ip:31080/ (WordPress's node) shows the blog 'Signpost on kind'"
tables=$(kubectl exec deploy/mariadb -- mariadb -u bitnami -pbitnami123 workpress -N \
  -e "SELECT option_value FROM wp_options WHERE option_name = 'blogname'; SHOW TABLES" 2>/dev/null || true)
grep -qx 'Signpost on kind' <<<"$tables" && grep -qx 'wp_users' <<<"$tables" \
  || fail "the database workpress lacks WordPress's tables or blog name: $(echo $tables)"
ok "MariaDB holds WordPress's $(grep -c '^wp_' <<<"$tables") tables and the blog's name"

kubectl delete -f "$EX" --ignore-not-found --wait=false >/dev/null 2>&1 || true
echo "[kind-tutorial] PASS in $(($(date +%s) - start))s ($(($(date +%s) - ready_at))s after the cluster and images were ready)" >&2
