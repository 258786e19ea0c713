# MariaDB for the tutorial, from Debian's mariadb-server, set up at first start the way the
# bitnami/mariadb image the tutorial names is: MARIADB_ROOT_PASSWORD, MARIADB_DATABASE,
# MARIADB_USER, MARIADB_PASSWORD, data in /bitnami/mariadb (see mariadb-entrypoint.sh).
ARG BASE_IMAGE=localhost/signpost-debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mariadb-server \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* /var/lib/mysql/*
COPY --chmod=0755 mariadb-entrypoint.sh /usr/local/bin/mariadb-entrypoint
EXPOSE 3306
ENTRYPOINT ["/usr/local/bin/mariadb-entrypoint"]
