#!/usr/bin/env bash
# The main job, from a fresh machine: set everything up, bring up the local cluster (a control
# plane built from the Go module proxy, two nodes made of network namespaces with a netns kubelet)
# inside a namespace with no route out, apply deploy/ so that signpost-proxy runs on every node and
# signpost-dns serves behind kube-dns, then replay ../shared/seed/cluster-networking-tutorial.md
# step by step, printing each command and its real output. Tears down at the end unless
# SIGNPOST_DEMO_KEEP=1.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
./hack/setup.sh
source hack/lib/node.sh
ensure_node24
STATE=${SIGNPOST_LOCAL_STATE:-/run/signpost-local}
[ "${SIGNPOST_DEMO_KEEP:-}" = 1 ] || trap './hack/local-down.sh' EXIT
./hack/local-up.sh
work=$(mktemp -d)
trap 'rm -rf "$work"; [ "${SIGNPOST_DEMO_KEEP:-}" = 1 ] || ./hack/local-down.sh' EXIT

say() { echo; echo "### $*"; }
k() { echo; echo "\$ kubectl $*"; ./hack/kubectl.sh "$@"; }
kexec() { local pod=$1; shift; echo; echo "\$ kubectl exec $pod -- $*   # local stand-in: hack/pod-exec.sh"; ./hack/pod-exec.sh "$pod" -- "$@"; }
on() {
  local where=$1; shift
  echo; if [ "$1" = sh ] && [ "$2" = -c ]; then echo "[$where]\$ $3"; else echo "[$where]\$ $*"; fi
  ip netns exec "signpost-local-$where" "$@"
}
file() { cat >"$work/$1"; echo; echo "--- $1"; cat "$work/$1"; }

say "The cluster: a control plane and two nodes, no kube-proxy, no CoreDNS"
k get nodes -o wide

say "Install signpost as an operator would: kubectl apply -k deploy/"
overlay=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).signpostOverlay' "$STATE/cluster.json")
echo "(an overlay that only points the proxy at this cluster's API server:)"; cat "$overlay/kustomization.yaml"
k apply -k "$overlay"
k -n kube-system rollout status daemonset/signpost-proxy --timeout=180s
k -n kube-system rollout status deployment/signpost-dns --timeout=180s
k -n kube-system get pods -o wide

say "Pods: each gets an IP from its node's pod CIDR, reachable from any node"
file nginx-pod1.yaml <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: nginx1
  namespace: default
  labels:
    run: nginx
spec:
  containers:
  - name: nginx
    image: nginx:latest
    ports:
    - containerPort: 80
EOF
sed 's/nginx1/nginx2/' "$work/nginx-pod1.yaml" >"$work/nginx-pod2.yaml"
k create -f "$work/nginx-pod1.yaml"
k create -f "$work/nginx-pod2.yaml"
k wait --for=condition=Ready pod/nginx1 pod/nginx2 --timeout=90s
k get pods -l run=nginx -o wide
for ip in $(./hack/kubectl.sh get pods nginx1 nginx2 -o jsonpath='{.items[*].status.podIP}'); do
  on node-2 sh -c "curl -s $ip:80 | grep -o 'Welcome to nginx!' | head -1"
done
k delete pod nginx1 nginx2 --wait=false

say "Exposing services: a Deployment of two replicas behind a ClusterIP Service"
file nginx-deploy.yaml <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
  labels:
    run: nginx
spec:
  replicas: 2
  selector:
    matchLabels:
      run: nginx
  template:
    metadata:
      labels:
        run: nginx
    spec:
      containers:
      - name: nginx
        image: nginx:latest
        ports:
        - containerPort: 80
EOF
file busybox.yaml <<'EOF'
apiVersion: v1
kind: Pod
metadata:
  name: busybox
  namespace: default
spec:
  containers:
  - name: busybox
    image: busybox
    command: ["sleep", "3600"]
EOF
k create -f "$work/nginx-deploy.yaml"
k rollout status deploy/nginx --timeout=90s
k expose deploy/nginx --port=80 --target-port=80 --name=nginx-service
k get services -l run=nginx
sleep 2
k describe service nginx-service
k create -f "$work/busybox.yaml"
k wait --for=condition=Ready pod/busybox --timeout=60s
ip=$(./hack/kubectl.sh get svc nginx-service -o jsonpath='{.spec.clusterIP}')
kexec busybox wget -q -O - "$ip:80"
echo "(the rules signpost-proxy programmed on node-1 for it:)"
on node-1 sh -c "iptables-save -t nat | grep 'default/nginx-service' | head -6"

say "NodePort: the same Service on a port of every node, from a client outside the cluster"
k delete svc/nginx-service
file nginx-nodeport-svc.yaml <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: nginx
  labels:
    run: nginx
spec:
  ports:
  - protocol: TCP
    port: 80
    targetPort: 80
    nodePort: 8090
  selector:
    run: nginx
  type: NodePort
EOF
echo "(8090 lies outside the default node-port range 30000-32767: this API server allows 8000-32767)"
k create -f "$work/nginx-nodeport-svc.yaml"
k describe svc/nginx
sleep 2
for node in 172.30.0.11 172.30.0.12; do
  on ext sh -c "curl -s $node:8090 | grep -o 'Welcome to nginx!' | head -1"
done

say "Service discovery: signpost-dns behind kube-dns"
k get all -n kube-system
k expose deploy/nginx --port=8080 --target-port=80 --name=nginx-service
k get all -l run=nginx
ip=$(./hack/kubectl.sh get svc nginx-service -o jsonpath='{.spec.clusterIP}')
sleep 2
kexec busybox wget -q -O /dev/null -S "$ip:8080"
kexec busybox cat /etc/resolv.conf
kexec busybox nslookup nginx-service

say "Accessing services: WordPress and MariaDB, linked by the name mariadb"
file mariadb-deploy.yaml <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    run: mariadb
  name: mariadb
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels:
      run: mariadb
  template:
    metadata:
      labels:
        run: mariadb
    spec:
      containers:
      - image: bitnami/mariadb:latest
        name: mariadb
        ports:
        - containerPort: 3306
          protocol: TCP
        env:
        - name: MARIADB_ROOT_PASSWORD
          value: bitnami123
        - name: MARIADB_DATABASE
          value: workpress
        - name: MARIADB_USER
          value: bitnami
        - name: MARIADB_PASSWORD
          value: bitnami123
        readinessProbe:
          tcpSocket:
            port: 3306
        volumeMounts:
        - name: mariadb-data
          mountPath: /bitnami/mariadb
      volumes:
      - name: mariadb-data
        emptyDir: {}
EOF
file mariadb-svc.yaml <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: mariadb
  labels:
    run: mariadb
spec:
  ports:
  - protocol: TCP
    port: 3306
    targetPort: 3306
  selector:
    run: mariadb
EOF
file wordpress-deploy.yaml <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  labels:
    run: blog
  name: wordpress
  namespace: default
spec:
  replicas: 1
  selector:
    matchLabels:
      run: blog
  template:
    metadata:
      labels:
        run: blog
    spec:
      containers:
      - image: bitnami/wordpress:latest
        name: wordpress
        ports:
        - containerPort: 80
          protocol: TCP
        env:
        - name: MARIADB_HOST
          value: mariadb
        - name: MARIADB_PORT
          value: '3306'
        - name: WORDPRESS_DATABASE_NAME
          value: workpress
        - name: WORDPRESS_DATABASE_USER
          value: bitnami
        - name: WORDPRESS_DATABASE_PASSWORD
          value: bitnami123
EOF
file wordpress-svc.yaml <<'EOF'
apiVersion: v1
kind: Service
metadata:
  name: wordpress
  labels:
    run: blog
spec:
  ports:
  - protocol: TCP
    port: 80
    targetPort: 80
    nodePort: 31080
  selector:
    run: blog
  type: NodePort
EOF
k create -f "$work/mariadb-deploy.yaml"
k create -f "$work/mariadb-svc.yaml"
k rollout status deploy/mariadb --timeout=120s
k describe svc mariadb
k create -f "$work/wordpress-deploy.yaml"
k create -f "$work/wordpress-svc.yaml"
k rollout status deploy/wordpress --timeout=90s
k get all -l run=blog
sleep 3
for _ in 1 2 3 4 5 6 7 8 9 10; do
  ip netns exec signpost-local-ext wget -q -T 3 -O /dev/null "172.30.0.11:31080" 2>/dev/null && break
  sleep 1
done
on ext wget -q -S -T 5 -O - "172.30.0.11:31080"

echo
echo "The tutorial ran on signpost: every Service above went through signpost-proxy's rules and"
echo "every name through signpost-dns."
if [ "${SIGNPOST_DEMO_KEEP:-}" = 1 ]; then
  echo "The cluster keeps running. Enter it with:"
else
  echo "The cluster is being torn down now. To look around, run SIGNPOST_DEMO_KEEP=1 ./hack/demo.sh, then:"
fi
echo "  ./hack/kubectl.sh get pods -A -o wide          # kubectl"
echo "  ./hack/pod-exec.sh busybox -- sh                # a shell in a pod (the local kubectl exec)"
echo "  ip netns exec signpost-local-node-1 sh          # a shell on node-1"
echo "  ip netns exec signpost-local-ext sh             # the external client"
echo "and tear it down with ./hack/local-down.sh"
