# nginx for the tutorial, from Debian's package: the stock welcome page on port 80, logs to the
# container's output as the official image does. One addition: an X-Served-By header with the
# pod's hostname, so that a client (and hack/kind-tutorial.sh) sees which replica answered
# without changing the page the tutorial shows.
ARG BASE_IMAGE=localhost/signpost-debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nginx-light \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* \
 && ln -sf /dev/stdout /var/log/nginx/access.log && ln -sf /dev/stderr /var/log/nginx/error.log \
 && sed -i 's|^\(\s*\)server_name _;|&\n\1add_header X-Served-By $hostname always;|' /etc/nginx/sites-available/default \
 && grep -q 'X-Served-By' /etc/nginx/sites-available/default
EXPOSE 80
STOPSIGNAL SIGQUIT
CMD ["nginx", "-g", "daemon off;"]
