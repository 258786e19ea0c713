#!/usr/bin/env bash
# Sets up everything a fresh machine lacks (hack/setup.sh), then runs the whole test suite:
# typecheck, lint, unit tests, and integration tests against a real control plane. The tests run
# inside a network namespace with only loopback, so no packet can leave the machine; the trap
# removes that namespace, every process in it and the temporary directory, however the run ends.
# Then, on a whole run (no test files named) and unless SIGNPOST_SKIP_KIND=1, on real nodes: the
# kind suite (hack/kind-test.sh: the smoke test and the tutorial on a 3-node kind cluster on
# podman with signpost in place of kube-proxy and CoreDNS, removed afterwards) and a subset of
# Kubernetes' conformance specs (hack/conformance.sh --subset); the node image, signpost's image,
# the tutorial's images, e2e.test and the test images are built once and cached here.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
started=$(date +%s)
./hack/setup.sh
source hack/lib/node.sh
source hack/lib/netns.sh
ensure_node24

echo "== typecheck" >&2
node_modules/.bin/tsc -p tsconfig.json
echo "== lint" >&2
node_modules/.bin/eslint .
# The lockfile is the only source of versions (package.json pins each dependency exactly): npm ls
# fails on a package missing, extraneous or of another version than the lockfile's. On a whole
# run only: a run of named test files is a developer's loop (and, in a git worktree whose
# node_modules is a link to another checkout's, npm ls would see a different tree).
if [ $# -eq 0 ]; then
  echo "== dependencies" >&2
  npm ls --all >/dev/null
  if audit=$(npm audit --omit=dev --audit-level=high 2>&1); then
    echo "npm audit: no high or critical advisory for the production dependencies" >&2
  elif grep -q "audit endpoint returned an error\|ENOTFOUND\|EAI_AGAIN\|ECONNREFUSED" <<<"$audit"; then
    echo "npm audit: not checked, the registry's audit endpoint cannot be reached from here ($(grep -m1 'npm warn audit\|npm error' <<<"$audit" || true))" >&2
  else
    echo "$audit" >&2
    echo "npm audit: high or critical advisories in the production dependencies (above)" >&2
    exit 1
  fi
fi

run="signpost-t$$"
tmp=$(mktemp -d /tmp/signpost-test.XXXXXX)
harness_start "$run" "$tmp"

echo "== tests (unit and integration) in netns $run-harness" >&2
status=0
netns_run "$run-harness" env TMPDIR="$tmp" SIGNPOST_RUN="$run" \
  node_modules/.bin/vitest run --reporter=default --reporter=json --outputFile.json="$tmp/results.json" "$@" \
  || status=$?

if [ -f "$tmp/results.json" ]; then
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
  ' "$tmp/results.json"
fi

if [ $# -eq 0 ] && [ "${SIGNPOST_SKIP_KIND:-}" != 1 ]; then
  # kind_step NAME COMMAND...: one step on real nodes, its time and result on one line.
  kind_step() {
    local name=$1 t0
    shift
    t0=$(date +%s)
    if "$@"; then
      echo "$name: passed in $(($(date +%s) - t0)) s"
    else
      echo "$name: FAILED after $(($(date +%s) - t0)) s"
      status=1
    fi
  }
  echo "== kind suite: the smoke test and the tutorial on a 3-node kind cluster (SIGNPOST_SKIP_KIND=1 skips the kind steps)" >&2
  kind_step "kind suite" ./hack/kind-test.sh
  echo "== conformance subset: Kubernetes' own Services and DNS conformance specs on kind" >&2
  kind_step "conformance subset" ./hack/conformance.sh --subset
fi
echo "== done in $(($(date +%s) - started)) s" >&2
exit $status
