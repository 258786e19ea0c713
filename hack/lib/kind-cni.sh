# Sourced by hack/kind-up.sh: the pod network of the kind cluster, in place of kind's kindnetd
# (an image no registry here serves). Each node gets a bridge CNI config for its podCIDR and a
# route to every other node's podCIDR through that node (the nodes share one podman network,
# like flannel's host-gw); traffic from pods to anything outside the pod network is
# masqueraded, as kindnetd does.

# kind_cni_conflist POD_CIDR: the node's CNI config. hairpinMode lets a pod reach itself through
# a Service (kube-proxy's hairpin rule needs it); no ipMasq, since the bridge plugin would also
# masquerade pod-to-pod traffic between nodes.
kind_cni_conflist() {
  cat <<EOF
{
  "cniVersion": "1.0.0",
  "name": "signpost-kind",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": { "type": "host-local", "ranges": [[{ "subnet": "$1" }]], "routes": [{ "dst": "0.0.0.0/0" }] }
    },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
EOF
}

# install_kind_cni KUBECTL... : waits until every node has a podCIDR, then configures each node.
# Idempotent: routes are replaced, the masquerade rule added once.
install_kind_cni() {
  local nodes="" name cidr other ocidr oip pod_subnet=10.244.0.0/16
  for _ in $(seq 120); do
    nodes=$("$@" get nodes -o jsonpath='{range .items[*]}{.metadata.name} {.spec.podCIDR} {.status.addresses[?(@.type=="InternalIP")].address}{"\n"}{end}' 2>/dev/null || true)
    if [ -n "$nodes" ] && ! echo "$nodes" | awk 'NF < 3 { bad = 1 } END { exit !bad }'; then break; fi
    sleep 1
  done
  echo "$nodes" | awk 'NF < 3 { bad = 1 } END { exit bad }' || { echo "error: nodes without a podCIDR or an address after 120 s: $nodes" >&2; return 1; }
  while read -r name cidr _; do
    [ -n "$name" ] || continue
    kind_cni_conflist "$cidr" | podman exec -i "$name" sh -c 'mkdir -p /etc/cni/net.d && cat >/etc/cni/net.d/10-signpost-kind.conflist' \
      || { echo "error: writing the CNI config into node $name failed (podman exec $name)" >&2; return 1; }
    while read -r other ocidr oip; do
      [ -n "$other" ] && [ "$other" != "$name" ] || continue
      podman exec "$name" ip route replace "$ocidr" via "$oip" \
        || { echo "error: 'podman exec $name ip route replace $ocidr via $oip' failed" >&2; return 1; }
    done <<<"$nodes"
    podman exec "$name" sh -c "iptables -t nat -C POSTROUTING -s $pod_subnet ! -d $pod_subnet -j MASQUERADE 2>/dev/null \
      || iptables -t nat -A POSTROUTING -s $pod_subnet ! -d $pod_subnet -j MASQUERADE" \
      || { echo "error: adding the pod masquerade rule on node $name failed" >&2; return 1; }
  done <<<"$nodes"
}
