#!/usr/bin/env bash
# npm run bench [-- proxy|proxy-10k|proxy-30k|dns|nodelocal|proxy-nft ...]: signpost against kube-proxy and CoreDNS on this machine, in
# one run, writing docs/benchmarks.md and its plots. Never part of ./hack/test.sh: it measures,
# it asserts nothing. It sets up what the tests need, builds the opponents from the Go module
# proxy (cached), and runs every section inside a network namespace with only loopback.
# An opponent that cannot be built is reported as missing; signpost's figures are still taken.
#   BENCH_QUICK=1   small scale points and few repetitions, to try the script quickly
#   BENCH_PROXY_EVENTS=N  programming-latency events per contestant and scale point (600: 300 changes, 300 new Services)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
started=$(date +%s)
./hack/setup.sh
source hack/lib/node.sh
source hack/lib/netns.sh
source hack/lib/packages.sh
ensure_node24
ensure_debs "${SIGNPOST_BENCH_DEBS[@]}"

sections=("$@")
[ ${#sections[@]} -eq 0 ] && sections=(proxy proxy-10k proxy-30k dns nodelocal proxy-nft)

opponent() { # opponent NAME SCRIPT ARGS...: the binary path the build prints last, or empty
  local name=$1 out; shift
  if out=$("$@" | tail -1) && [ -f "$out" ] && [ -x "$out" ]; then echo "$out"; return; fi
  [ -d "$out" ] && [ -f "$out/$name" ] && [ -x "$out/$name" ] && { echo "$out/$name"; return; }
  echo "[bench] could not build $name; its column will be marked missing" >&2
}
export BENCH_KUBE_PROXY BENCH_COREDNS
BENCH_KUBE_PROXY=$(opponent kube-proxy ./hack/build-control-plane.sh --with-kube-proxy || true)
BENCH_COREDNS=$(opponent coredns ./hack/build-coredns.sh || true)
echo "[bench] kube-proxy: ${BENCH_KUBE_PROXY:-missing}; coredns: ${BENCH_COREDNS:-missing}" >&2

# Bench-only C tools, each built once per version of its source and cached: the DNS section's
# UDP ceiling responder and the proxy section's connection-rate client.
bench_tool() { # bench_tool SOURCE: the built binary's path, or empty when it cannot be built
  local src=$1 out
  out="${SIGNPOST_CACHE:-$HOME/.cache/signpost}/bench/$(basename "$src" .c)-$(sha256sum "$src" | cut -c1-12)"
  if [ ! -x "$out" ]; then
    mkdir -p "$(dirname "$out")"
    if ! gcc -O2 -Wall -Wextra -Werror -o "$out.tmp" "$src" >&2; then
      echo "[bench] could not build $src; its figures will be marked missing" >&2
      return 0
    fi
    mv "$out.tmp" "$out"
  fi
  echo "$out"
}
export BENCH_UDP_CEILING BENCH_CONNECT_RATE
BENCH_UDP_CEILING=$(bench_tool test/bench/dns/udp-ceiling.c)
BENCH_CONNECT_RATE=$(bench_tool test/bench/proxy/connect-rate.c)

run="signpost-bench$$"
tmp=$(mktemp -d /tmp/signpost-bench.XXXXXX)
harness_start "$run" "$tmp"

export BENCH_OUT=${BENCH_OUT:-$root/docs/bench-results}
# The proxy sections run both iptables-mode contestants on iptables-legacy: on iptables-nft,
# kube-proxy's single-transaction first restore of 10,000 Services did not finish in 300 s here
# (1,130 s for 2,000), so its column would be empty. The proxy-nft section measures that backend,
# the default on current distributions, at the scale where it finishes (test/bench/proxy/plan.ts).
export BENCH_PROXY_IPTABLES=${BENCH_PROXY_IPTABLES:-legacy}
for s in "${sections[@]}"; do
  echo "== bench: $s" >&2
  case $s in
    proxy-10k|proxy-30k) netns_run "$run-harness" env TMPDIR="$tmp" SIGNPOST_RUN="$run" BENCH_PROXY_SECTION="$s" node test/bench/proxy/main.ts ;;
    proxy-nft) netns_run "$run-harness" env TMPDIR="$tmp" SIGNPOST_RUN="$run" BENCH_PROXY_IPTABLES=nft node test/bench/proxy/main.ts ;;
    *) netns_run "$run-harness" env TMPDIR="$tmp" SIGNPOST_RUN="$run" node "test/bench/$s/main.ts" ;;
  esac
done
node test/bench/report.ts
echo "== bench done in $(($(date +%s) - started)) s: docs/benchmarks.md" >&2
