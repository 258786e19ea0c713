# A control-plane image (kube-apiserver, kube-controller-manager, kube-scheduler, etcd) holding
# one static binary built here, tagged as kubeadm expects so that kind needs no registry.
# kubeadm's static pods run the command by name, hence PATH; /tmp is the only directory the
# commands write outside their mounts.
FROM scratch
ARG BINARY
COPY --chmod=0755 ${BINARY} /usr/local/bin/${BINARY}
COPY --chmod=1777 tmp/ /tmp/
ENV PATH=/usr/local/bin:/usr/bin:/bin
LABEL signpost.component=true
