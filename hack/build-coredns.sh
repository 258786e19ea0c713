#!/usr/bin/env bash
# Builds CoreDNS (the opponent of signpost-dns in `npm run bench`) from the Go module proxy into a
# cache outside the checkout, keyed by version. A second run finds the binary and does nothing.
#
# usage: hack/build-coredns.sh        prints the binary's path on its last line.
set -euo pipefail

COREDNS_VERSION=${COREDNS_VERSION:-v1.15.0}
CACHE=${SIGNPOST_CACHE:-$HOME/.cache/signpost}
BIN="$CACHE/coredns/$COREDNS_VERSION/bin"
export GOTOOLCHAIN=local CGO_ENABLED=0

log() { echo "[build-coredns] $*" >&2; }
die() { echo "[build-coredns] error: $*" >&2; exit 1; }

command -v go >/dev/null || die "go is not on PATH (CoreDNS $COREDNS_VERSION needs Go >= 1.26)"
if [[ -x "$BIN/coredns" ]]; then
  log "cached: $BIN/coredns"
  echo "$BIN/coredns"
  exit 0
fi
mkdir -p "$BIN"
log "building github.com/coredns/coredns@$COREDNS_VERSION into $BIN (several minutes on a cold cache)"
if ! GOBIN="$BIN" go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION" 2>"$BIN/../build.err"; then
  cat "$BIN/../build.err" >&2
  die "go install github.com/coredns/coredns@$COREDNS_VERSION failed; the Go error is above"
fi
"$BIN/coredns" -version >&2
echo "$BIN/coredns"
