# The smoke test's backend and client, from Debian packages: busybox's httpd answers every
# request with the pod's hostname, so a client sees which backend served it (a TCP connect alone
# proves nothing on a machine whose network accepts every connection).
ARG BASE_IMAGE=localhost/signpost-debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends busybox-static \
 && apt-get clean && rm -rf /var/lib/apt/lists/*
ENTRYPOINT ["/bin/sh", "-c", "mkdir -p /tmp/www && hostname >/tmp/www/index.html && exec busybox httpd -f -p 8080 -h /tmp/www"]
