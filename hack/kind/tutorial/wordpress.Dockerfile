# WordPress for the tutorial: Debian's wordpress package on apache2 with mod_php and php-mysql,
# configured at start from the environment as the official image is (WORDPRESS_DB_HOST,
# WORDPRESS_DB_USER, WORDPRESS_DB_PASSWORD, WORDPRESS_DB_NAME), or from the bitnami/wordpress
# names the tutorial's manifest gives (MARIADB_HOST, MARIADB_PORT, WORDPRESS_DATABASE_*); see
# wordpress-entrypoint.sh. Not installed: the first visit to /wp-admin/install.php installs it.
ARG BASE_IMAGE=localhost/signpost-debian:bookworm
FROM ${BASE_IMAGE}
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      wordpress wordpress-theme-twentytwentythree apache2 libapache2-mod-php php-mysql \
 && apt-get clean && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* \
 && a2dissite 000-default >/dev/null
COPY wordpress-apache.conf /etc/apache2/sites-available/wordpress.conf
COPY --chmod=0755 wordpress-entrypoint.sh /usr/local/bin/wordpress-entrypoint
RUN a2ensite wordpress >/dev/null && apache2ctl configtest
EXPOSE 80
STOPSIGNAL SIGWINCH
ENTRYPOINT ["/usr/local/bin/wordpress-entrypoint"]
