# signpost's image: both daemons on Node.js 24, with iptables and conntrack for the proxy.
# Built by hack/kind-up.sh; not buildable on machines without a Docker engine.
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends iptables conntrack \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY cmd ./cmd
COPY pkg ./pkg
ENV NODE_ENV=production
# The proxy runs as root (privileged DaemonSet); the DNS Deployment sets runAsUser 65532.
ENTRYPOINT ["/app/bin/signpost-proxy"]
