# Sourced by hack/ scripts: installs the Debian packages the tests and the local cluster use,
# once; a second run finds them and does nothing.
SIGNPOST_DEBS=(iproute2 iptables conntrack dnsutils openssl procps)

ensure_debs() {
  local missing=() p
  for p in "${SIGNPOST_DEBS[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "[setup] installing Debian packages: ${missing[*]}" >&2
  if [ "$(id -u)" -ne 0 ]; then echo "error: installing ${missing[*]} needs root" >&2; return 1; fi
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null \
    || { echo "error: apt-get update failed" >&2; return 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { echo "error: apt-get install ${missing[*]} failed" >&2; return 1; }
}
