#!/usr/bin/env bash
# The main job, from a fresh machine: set everything up, bring up the local control plane (built
# from the Go module proxy) in a network namespace with no route out, show it live with kubectl,
# and tear it down again. (The end-to-end demo with nodes, pods and signpost arrives with the
# local cluster; until then this shows the control plane the tests run against.)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
./hack/setup.sh
trap './hack/local-down.sh' EXIT
./hack/local-up.sh
step() { echo; echo "\$ kubectl $*"; ./hack/kubectl.sh "$@"; }
step get --raw /readyz
echo
step version
step get nodes,svc -A
step create namespace demo
step -n demo create service clusterip web --tcp=80:8080
step -n demo get svc,endpointslices -o wide
echo
echo "signpost-proxy --help:"
"$root/bin/signpost-proxy" --help
