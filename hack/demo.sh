#!/usr/bin/env bash
# The main job, from a fresh machine: set everything up, bring up the local cluster (a control
# plane built from the Go module proxy, and nodes made of network namespaces with a netns kubelet)
# inside a namespace with no route out, replay the first steps of the tutorial
# (../shared/seed/cluster-networking-tutorial.md: pods, a Deployment, a Service and its
# endpoints), and tear it all down. Set SIGNPOST_DEMO_KEEP=1 to leave the cluster running.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
./hack/setup.sh
[ "${SIGNPOST_DEMO_KEEP:-}" = 1 ] || trap './hack/local-down.sh' EXIT
./hack/local-up.sh
step() { echo; echo "\$ kubectl $*"; ./hack/kubectl.sh "$@"; }

step get --raw /readyz; echo
step get nodes -o wide
cat <<'YAML' >/tmp/signpost-demo-nginx.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx
  labels: { run: nginx }
spec:
  replicas: 2
  selector: { matchLabels: { run: nginx } }
  template:
    metadata: { labels: { run: nginx } }
    spec:
      containers:
        - name: nginx
          image: nginx:latest
          ports: [{ containerPort: 80 }]
          readinessProbe: { httpGet: { path: /, port: 80 }, periodSeconds: 1 }
YAML
step create -f /tmp/signpost-demo-nginx.yaml
step rollout status deploy/nginx --timeout=90s
step get pods -l run=nginx -o wide
step expose deploy/nginx --port=80 --target-port=80 --name=nginx-service
step get services -l run=nginx
sleep 2
step describe service nginx-service
step get endpointslices -l kubernetes.io/service-name=nginx-service -o wide
for ip in $(./hack/kubectl.sh get pods -l run=nginx -o jsonpath='{.items[*].status.podIP}'); do
  echo; echo "[node-2]\$ curl -s http://$ip/ | grep title"
  ip netns exec signpost-local-node-2 curl -s -m 5 "http://$ip/" | grep -i '<title>'
done
step get all -A
rm -f /tmp/signpost-demo-nginx.yaml
echo
echo "signpost-proxy and signpost-dns are not yet deployed into this cluster: see README.md, Status."
if [ "${SIGNPOST_DEMO_KEEP:-}" = 1 ]; then
  echo "The cluster keeps running: ./hack/kubectl.sh get pods -A; ip netns exec signpost-local-node-1 sh;"
  echo "tear it down with ./hack/local-down.sh"
fi
