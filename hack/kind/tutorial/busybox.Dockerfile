# The tutorial's client pod ("busybox"): a shell with busybox and the tools the tutorial's
# commands need that work on every machine: curl (busybox wget crashes on some hosts), nslookup
# and dig (dnsutils), nc. It runs whatever command the pod gives it.
ARG BASE_IMAGE=localhost/signpost-debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends busybox-static curl dnsutils netcat-openbsd \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/*
CMD ["sleep", "infinity"]
