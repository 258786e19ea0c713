# The e2e suite's busybox image (upstream a mirror of Docker's busybox): Debian with busybox's
# applets linked in wherever Debian has no command of that name (nslookup, wget, ...).
ARG BASE_IMAGE=localhost/signpost-debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends busybox-static \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && for a in $(busybox --list); do \
      command -v "$a" >/dev/null 2>&1 || ln -s /bin/busybox "/usr/local/bin/$a"; \
    done
CMD ["sh"]
