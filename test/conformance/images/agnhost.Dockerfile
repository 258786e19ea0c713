# agnhost, the e2e suite's do-everything test image (test/images/agnhost in the k8s.io/kubernetes
# module), on Debian instead of Alpine: the agnhost binary built here from the module, the tools
# the tests exec in it (dig, curl, nc, ss, iperf, bash), CoreDNS at /coredns (the "configurable
# pod DNS nameservers" test runs it), porter's test certificate and the users the upstream image
# adds. The fake registry under /var/registry is left out: no selected test pulls from it.
ARG BASE_IMAGE=localhost/signpost-debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      bind9-dnsutils curl netcat-openbsd iproute2 iperf bash util-linux procps \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && ln -s /usr/bin/iperf /usr/local/bin/iperf \
 && mkdir /uploads \
 && useradd -u 1000 -M user-defined-in-image \
 && groupadd -g 50000 group-defined-in-image \
 && usermod -a -G group-defined-in-image user-defined-in-image
COPY --chmod=0755 coredns /coredns
COPY localhost.crt localhost.key /
COPY --chmod=0755 agnhost /agnhost
RUN ln -s agnhost /agnhost-2
EXPOSE 80 8080 8081 9376 5000
ENTRYPOINT ["/agnhost"]
CMD ["pause"]
