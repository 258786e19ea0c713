# The reference cluster's CoreDNS: github.com/coredns/coredns at the version kubeadm lists,
# built here, tagged as kubeadm expects. kubeadm's Deployment runs /coredns as a non-root user
# with CAP_NET_BIND_SERVICE, as with the upstream image.
FROM scratch
COPY --chmod=0755 coredns /coredns
COPY --chmod=1777 tmp/ /tmp/
EXPOSE 53 53/udp
ENTRYPOINT ["/coredns"]
