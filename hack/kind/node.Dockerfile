# The kind node image: kind's images/base (sigs.k8s.io/kind, files/ copied from the module) on
# our debootstrap'd Debian, with containerd, runc, crictl, the CNI plugins, kubelet, kubeadm and
# kubectl built here from the Go module proxy instead of downloaded. No registry is needed.
# hack/kind-node-image.sh builds it; the control-plane images are preloaded after this.
ARG BASE_IMAGE
FROM ${BASE_IMAGE}

COPY --chmod=0755 files/usr/local/bin/* /usr/local/bin/
COPY --chmod=0644 files/kind/ /kind/
COPY --chmod=0755 files/kind/bin/ /kind/bin/
COPY --chmod=0644 files/etc/crictl.yaml /etc/
COPY --chmod=0644 files/etc/containerd/* /etc/containerd/
COPY --chmod=0644 files/etc/default/* /etc/default/
COPY --chmod=0644 files/etc/sysctl.d/* /etc/sysctl.d/
COPY --chmod=0644 files/etc/systemd/system/*.service files/etc/systemd/system/*.slice /etc/systemd/system/
COPY --chmod=0644 files/etc/systemd/system/kubelet.service.d/* /etc/systemd/system/kubelet.service.d/

# kind's package list and unit clean-up, unchanged (debootstrap already made /sbin/init).
RUN chmod 755 /kind /kind/bin \
    && DEBIAN_FRONTEND=noninteractive clean-install \
      systemd \
      conntrack iptables nftables iproute2 ethtool util-linux mount kmod \
      libseccomp2 pigz fuse-overlayfs \
      nfs-common open-iscsi \
      e2fsprogs \
      bash ca-certificates curl jq procps \
    && find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete \
    && rm -f /lib/systemd/system/multi-user.target.wants/* \
    && rm -f /etc/systemd/system/*.wants/* \
    && rm -f /lib/systemd/system/local-fs.target.wants/* \
    && rm -f /lib/systemd/system/sockets.target.wants/*udev* \
    && rm -f /lib/systemd/system/sockets.target.wants/*initctl* \
    && rm -f /lib/systemd/system/basic.target.wants/* \
    && echo "ReadKMsg=no" >> /etc/systemd/journald.conf \
    && ln -sf /usr/lib/systemd/systemd /sbin/init \
    && systemctl enable kubelet.service containerd.service undo-mount-hacks.service \
    && systemctl mask systemd-binfmt.service \
    && mkdir -p /etc/kubernetes/manifests /opt/cni/bin

COPY --chmod=0755 bin/containerd bin/ctr bin/containerd-shim-runc-v2 bin/crictl /usr/local/bin/
COPY --chmod=0755 bin/runc /usr/local/sbin/
COPY --chmod=0755 bin/cni/ /opt/cni/bin/
COPY --chmod=0755 bin/kubelet bin/kubeadm bin/kubectl /usr/bin/

ARG K8S_VERSION
# restrict_oom_score_adj: hosts without CAP_SYS_RESOURCE (this one) make runc fail every pod
# sandbox with "failed to update /proc/self/oom_score_adj: Permission denied" otherwise; kind's
# entrypoint only sets it inside a user namespace.
RUN ctr oci spec \
        | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
        | jq 'del(.process.rlimits)' \
        > /etc/containerd/cri-base.json \
    && sed -i 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' /etc/containerd/config.toml \
    && grep -q 'restrict_oom_score_adj = true' /etc/containerd/config.toml \
    && containerd --version && runc --version && crictl --version && kubelet --version \
    && echo "${K8S_VERSION}" > /kind/version

ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]
