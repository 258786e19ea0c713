# Sourced by the scripts that check signpost on a kind cluster (kind-smoke, kind-tutorial,
# kind-faults): the cluster they work on, kubectl on it, how they report, and waiting on a
# condition. The script sets SIGNPOST_LOG_PREFIX before sourcing, then calls kind_cluster "$@".
CLUSTER=${SIGNPOST_KIND_CLUSTER:-signpost}
export KIND_EXPERIMENTAL_PROVIDER=podman

fail() { echo "[$SIGNPOST_LOG_PREFIX] FAIL: $*" >&2; exit 1; }
ok() { echo "[$SIGNPOST_LOG_PREFIX] ok: $*" >&2; }
log() { echo "[$SIGNPOST_LOG_PREFIX] $*" >&2; }

# kind_cluster [--down]: the cluster of hack/kind-up.sh, made when missing, and kubectl for it
# (the control plane's, built by hack/build-control-plane.sh); --down removes it on exit.
kind_cluster() {
  if [ "${1:-}" = "--down" ]; then trap './hack/kind-down.sh' EXIT; fi
  kubeconfig=$(./hack/kind-up.sh | tail -1)
  cp_bin=$(./hack/build-control-plane.sh | tail -1)
}
kubectl() { "$cp_bin/kubectl" --kubeconfig "$kubeconfig" "$@"; }

# eventually SECONDS COMMAND...: COMMAND until it succeeds, for at most SECONDS (rules and DNS
# records follow a change within a moment, not at once).
eventually() {
  local deadline=$(($(date +%s) + $1))
  shift
  until "$@"; do [ "$(date +%s)" -lt "$deadline" ] || return 1; sleep 1; done
}

# until_true SECONDS WHAT COMMAND...: COMMAND, its output silenced, until it succeeds, or FAIL naming WHAT.
until_true() {
  local seconds=$1 what=$2
  shift 2
  eventually "$seconds" quietly "$@" || fail "$what"
}
quietly() { "$@" >/dev/null 2>&1; }
