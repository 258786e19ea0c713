# Sourced by the kind scripts: makes this host able to run kind nodes under podman, once; a
# second run finds everything in place and changes nothing.
# Why each setting (all seen failing without it on a cgroup-v1 host, see issue 14):
# - runc, not crun: crun refuses the hybrid cgroup layout.
# - cgroupfs: no systemd manages the host's cgroups.
# - pids_limit = 0: podman's default 2048 leaves the node's kubelet about 300 tasks.
# - nofile/nproc ulimits: the defaults are refused or too small for a node's containerd.
# - /lib/modules: kind always bind-mounts it, and a kernel booted without modules has none.
# - netavark + aardvark-dns: kind's nodes find each other by name (a worker joins
#   https://signpost-control-plane:6443); podman's CNI backend resolves no names. They are
#   only Recommends of podman, so an install without recommends lacks them.
source "$(dirname "${BASH_SOURCE[0]}")/packages.sh"

SIGNPOST_KIND_DEBS=(podman runc netavark aardvark-dns debootstrap libseccomp-dev gcc make)
SIGNPOST_CONTAINERS_CONF=/etc/containers/containers.conf

signpost_containers_conf() {
  cat <<'EOF'
# Written by signpost's hack/lib/kind-host.sh for kind nodes on a cgroup-v1 host.
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=30000:30000"]
pids_limit = 0

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"

[network]
network_backend = "netavark"
EOF
}

ensure_kind_host() {
  ensure_debs "${SIGNPOST_KIND_DEBS[@]}" || return 1
  if ! cmp -s <(signpost_containers_conf) "$SIGNPOST_CONTAINERS_CONF"; then
    if [ -s "$SIGNPOST_CONTAINERS_CONF" ] && ! grep -q "signpost's hack/lib/kind-host.sh" "$SIGNPOST_CONTAINERS_CONF"; then
      cp "$SIGNPOST_CONTAINERS_CONF" "$SIGNPOST_CONTAINERS_CONF.before-signpost"
      echo "[kind-host] saved the previous $SIGNPOST_CONTAINERS_CONF as $SIGNPOST_CONTAINERS_CONF.before-signpost" >&2
    fi
    mkdir -p "$(dirname "$SIGNPOST_CONTAINERS_CONF")"
    signpost_containers_conf >"$SIGNPOST_CONTAINERS_CONF"
    echo "[kind-host] wrote $SIGNPOST_CONTAINERS_CONF (runc, cgroupfs, ulimits, no pids limit)" >&2
  fi
  # Left by podman's CNI backend before the switch to netavark, it holds the route to the
  # default network's 10.88.0.0/16, so build containers on netavark's podman0 get no answers.
  if ip link show cni-podman0 >/dev/null 2>&1; then
    ip link delete cni-podman0 && echo "[kind-host] removed the stale bridge cni-podman0 of podman's CNI backend" >&2
  fi
  [ -d /lib/modules ] || { mkdir -p /lib/modules && echo "[kind-host] made an empty /lib/modules (kind mounts it)" >&2; }
  podman info >/dev/null 2>&1 || { echo "error: 'podman info' fails after the host set-up; run it to see why" >&2; return 1; }
}
