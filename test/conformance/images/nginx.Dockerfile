# The e2e suite's nginx image (test/images/nginx: nginx on its default port 80), from Debian's
# nginx-light. The Endpoints and EndpointSlice specs only need a pod that runs and becomes ready.
ARG BASE_IMAGE=localhost/signpost-debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx-light \
 && apt-get clean && rm -rf /var/lib/apt/lists/* \
 && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
