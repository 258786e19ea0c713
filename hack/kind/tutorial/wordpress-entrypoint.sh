#!/bin/sh
# Writes Debian's WordPress configuration (/etc/wordpress/config-default.php, read for any host
# name) from the environment, then runs apache2 in the foreground. The official image's names
# come first, the bitnami/wordpress ones the tutorial uses second. Keys and salts are made
# afresh unless given, as the official image does.
set -eu
host=${WORDPRESS_DB_HOST:-${MARIADB_HOST:-mariadb}:${MARIADB_PORT_NUMBER:-${MARIADB_PORT:-3306}}}
export SP_DB_HOST="$host"
export SP_DB_USER="${WORDPRESS_DB_USER:-${WORDPRESS_DATABASE_USER:-}}"
export SP_DB_PASSWORD="${WORDPRESS_DB_PASSWORD:-${WORDPRESS_DATABASE_PASSWORD:-}}"
export SP_DB_NAME="${WORDPRESS_DB_NAME:-${WORDPRESS_DATABASE_NAME:-wordpress}}"
export SP_TABLE_PREFIX="${WORDPRESS_TABLE_PREFIX:-wp_}"
php -r '
$out = "<?php\n// Written by wordpress-entrypoint from the container environment.\n";
foreach (["DB_HOST", "DB_USER", "DB_PASSWORD", "DB_NAME"] as $k) {
  $out .= "define(" . var_export($k, true) . ", " . var_export(getenv("SP_$k"), true) . ");\n";
}
foreach (["AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY", "AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT"] as $k) {
  $v = getenv("WORDPRESS_$k");
  $out .= "define(" . var_export($k, true) . ", " . var_export($v !== false && $v !== "" ? $v : bin2hex(random_bytes(32)), true) . ");\n";
}
$out .= "\$table_prefix = " . var_export(getenv("SP_TABLE_PREFIX"), true) . ";\n";
// A NodePort is reached through any node address: links follow the address the client used.
$out .= "if (isset(\$_SERVER[\"HTTP_HOST\"])) {\n  define(\"WP_HOME\", \"http://\" . \$_SERVER[\"HTTP_HOST\"]);\n  define(\"WP_SITEURL\", \"http://\" . \$_SERVER[\"HTTP_HOST\"]);\n}\n";
file_put_contents("/etc/wordpress/config-default.php", $out);
'
chown root:www-data /etc/wordpress/config-default.php
chmod 0640 /etc/wordpress/config-default.php
echo "wordpress-entrypoint: database ${SP_DB_NAME} at ${SP_DB_HOST} as '${SP_DB_USER}'"
set +u  # envvars reads variables it may not find
. /etc/apache2/envvars
set -u
mkdir -p "$APACHE_RUN_DIR" "$APACHE_LOCK_DIR" "$APACHE_LOG_DIR"
exec apache2 -DFOREGROUND
