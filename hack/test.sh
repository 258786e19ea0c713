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
  2>&1 | tee "$tmp/vitest.log" || status=$?

# What failed, in a few lines: printed here and again as the run's last lines, since a CI log is
# often read from its end, after the kind steps' output.
vitest_summary=""
if [ -f "$tmp/results.json" ]; then
  vitest_summary=$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    const lines = [`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : "")];
    const short = (text) => String(text ?? "").replace(/\x1b\[[0-9;]*m/g, "").split("\n").filter((l) => l.trim() !== "").slice(0, 3).join(" | ").slice(0, 700);
    for (const file of r.testResults) {
      const name = file.name.replace(process.cwd() + "/", "");
      for (const t of file.assertionResults) if (t.status === "failed") lines.push(`FAILED ${name} > ${t.fullName}: ${short(t.failureMessages?.[0])}`);
      if (file.status === "failed" && !file.assertionResults.some((t) => t.status === "failed")) lines.push(`FAILED ${name} (outside any test): ${short(file.message)}`);
    }
    console.log(lines.join("\n"));
  ' "$tmp/results.json")
fi
if [ "$status" -ne 0 ] && ! grep -q "^FAILED" <<<"$vitest_summary"; then
  errors=$(sed 's/\x1b\[[0-9;]*m//g' "$tmp/vitest.log" 2>/dev/null | grep -A12 -m1 "Unhandled \|unhandled error" | grep -v "^\s*$" | head -12 | tr '\n' '|' || true)
  vitest_summary+="${vitest_summary:+$'\n'}vitest exited $status with no failed test; its errors: ${errors:-none printed}"
fi
[ -n "$vitest_summary" ] && echo "$vitest_summary"

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
if [ "$status" -ne 0 ] && [ -n "$vitest_summary" ]; then
  echo "== unit and integration tests, again: $vitest_summary" >&2
fi
echo "== done in $(($(date +%s) - started)) s" >&2
exit $status
