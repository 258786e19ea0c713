#!/usr/bin/env bash
# Everything a fresh machine needs, idempotent and cached: Debian packages, Node.js 24, the npm
# dependencies, the daemons' bundles (hack/bundle.ts), and the control plane built from the Go
# module proxy.
# usage: hack/setup.sh            prints nothing on a warm machine but the cache paths
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source hack/lib/node.sh
source hack/lib/packages.sh

ensure_debs
ensure_node24
echo "[setup] node $(node --version) at $(command -v node)" >&2
ensure_node_modules
build_bundles
# kube-proxy too: the handover test (test/integration/proxy-handover.test.ts) runs the real one.
./hack/build-control-plane.sh --with-kube-proxy >/dev/null
