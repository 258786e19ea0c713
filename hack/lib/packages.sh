# Sourced by hack/ scripts: installs the Debian packages the tests and the local cluster use,
# once; a second run finds them and does nothing.
# mariadb-server backs the local cluster's bitnami/mariadb stand-in; dnsmasq-base is the upstream
# DNS server the forwarding tests start; wget and curl are the tutorial's clients; python3 serves
# HTTP in the e2e pod that keeps serving through its grace period.
SIGNPOST_DEBS=(iproute2 iptables conntrack dnsutils openssl procps util-linux dnsmasq-base mariadb-server mariadb-client curl wget python3)
# `npm run bench` only: dnsperf drives both DNS servers, nftables runs kube-proxy's nftables mode,
# gcc builds the UDP ceiling responder (test/bench/dns/udp-ceiling.c).
SIGNPOST_BENCH_DEBS=(dnsperf nftables gcc libc6-dev)

# ensure_debs [PACKAGE...]: the packages named, or SIGNPOST_DEBS.
ensure_debs() {
  local missing=() p wanted=("$@")
  [ ${#wanted[@]} -eq 0 ] && wanted=("${SIGNPOST_DEBS[@]}")
  for p in "${wanted[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "[setup] installing Debian packages: ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then echo "error: installing ${missing[*]} needs root" >&2; return 1; fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
    || { echo "error: apt-get update failed" >&2; return 1; }
  # Packages install their daemons (mariadb) without starting them: the tests start their own.
  local policy=/usr/sbin/policy-rc.d made_policy=0
  if [ ! -e "$policy" ]; then printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && made_policy=1; fi
  local rc=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || rc=$?
  [ $made_policy -eq 1 ] && rm -f "$policy"
  [ $rc -eq 0 ] || { echo "error: apt-get install ${missing[*]} failed" >&2; return 1; }
}
