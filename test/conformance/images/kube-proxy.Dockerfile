# The reference cluster's kube-proxy: cmd/kube-proxy of the same k8s.io/kubernetes module, with
# the commands it runs (iptables in the node's flavour through signpost's iptables-wrapper,
# conntrack, ip), tagged as kubeadm expects so that its kube-proxy addon needs no registry.
ARG BASE_IMAGE=localhost/signpost-debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends iptables ipset conntrack iproute2 kmod \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY --chmod=0755 iptables-wrapper /usr/sbin/iptables-wrapper
RUN for c in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do \
      ln -sf iptables-wrapper "/usr/sbin/$c"; \
    done
COPY --chmod=0755 kube-proxy /usr/local/bin/kube-proxy
