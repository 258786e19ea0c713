# Sourced by hack/ scripts: network namespaces with no route out, for the cluster harness.
# Every namespace the project makes is named signpost-*, so a sweep can find what a crash left.

# netns_create NAME: a namespace with only loopback, up.
netns_create() {
  ip netns add "$1"
  ip -n "$1" link set lo up
}

# netns_destroy NAME: kill whatever still runs inside, then delete it.
netns_destroy() {
  local ns=$1 pids
  ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$ns" || return 0
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  [ -n "$pids" ] && kill -9 $pids 2>/dev/null || true
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    [ -z "$(ip netns pids "$ns" 2>/dev/null)" ] && break
    sleep 0.2
  done
  ip netns del "$ns" 2>/dev/null || true
}

# netns_sweep PREFIX: destroy every namespace whose name starts with PREFIX.
netns_sweep() {
  local ns
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$1" || true); do
    netns_destroy "$ns"
  done
}

# netns_run NAME CMD...: runs CMD in the namespace's network only. Unlike `ip netns exec`, it
# keeps the caller's mount namespace, so namespaces CMD creates (ip netns add) are visible to
# every other shell, and `ip netns exec` into them works from anywhere.
netns_run() {
  local ns=$1; shift
  nsenter --net="/run/netns/$ns" "$@"
}

# harness_start RUN TMP: the namespace RUN-harness, with only loopback, for a whole run of tests
# or benchmarks. When the calling script exits, however it exits, every namespace whose name
# starts with RUN (and whatever still runs inside) and the directory TMP are removed.
harness_start() {
  HARNESS_RUN=$1
  HARNESS_TMP=$2
  trap 'netns_sweep "$HARNESS_RUN"; rm -rf "$HARNESS_TMP"' EXIT
  trap 'exit 130' INT TERM
  netns_create "$HARNESS_RUN-harness"
}
