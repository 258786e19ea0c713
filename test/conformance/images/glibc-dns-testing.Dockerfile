# glibc-dns-testing (test/images/glibc-dns-testing): a glibc resolver with dig, next to agnhost's,
# so that the DNS tests see both libc's behaviour. Upstream is debian:bookworm-slim plus
# dnsutils and CoreDNS at /coredns; here the same from our Debian base and the CoreDNS built here.
ARG BASE_IMAGE=localhost/signpost-debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dnsutils \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
COPY --chmod=0755 coredns /coredns
