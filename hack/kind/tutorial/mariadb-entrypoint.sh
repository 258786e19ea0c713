#!/bin/sh
# First start: a data directory in /bitnami/mariadb/data (the pod's volume), the database, the
# user and the root password from the MARIADB_* variables, all done on a server without
# networking, so that nobody connects before the user exists. Then the server on port 3306.
set -eu
base=/bitnami/mariadb
data=$base/data
mkdir -p "$data" /run/mysqld
chown -R mysql:mysql "$base" /run/mysqld
server() { exec mariadbd --user=mysql --datadir="$data" --skip-name-resolve --innodb-buffer-pool-size=32M "$@"; }

if [ ! -d "$data/mysql" ]; then
  echo "mariadb-entrypoint: initialising $data"
  mariadb-install-db --user=mysql --datadir="$data" --auth-root-authentication-method=normal --skip-test-db >/dev/null
  (server --skip-networking --socket=/run/mysqld/init.sock) &
  pid=$!
  i=0
  until mariadb-admin --socket=/run/mysqld/init.sock -u root ping >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 300 ] || { echo "mariadb-entrypoint: the server did not start" >&2; exit 1; }
    sleep 0.2
  done
  quote() { printf '%s' "$1" | sed "s/\\\\/\\\\\\\\/g; s/'/\\\\'/g"; }
  db=$(printf '%s' "${MARIADB_DATABASE:-}" | tr -d '`')
  {
    [ -z "$db" ] || echo "CREATE DATABASE IF NOT EXISTS \`$db\`;"
    if [ -n "${MARIADB_USER:-}" ]; then
      echo "CREATE USER '$(quote "$MARIADB_USER")'@'%' IDENTIFIED BY '$(quote "${MARIADB_PASSWORD:-}")';"
      [ -z "$db" ] || echo "GRANT ALL ON \`$db\`.* TO '$(quote "$MARIADB_USER")'@'%';"
    fi
    if [ -n "${MARIADB_ROOT_PASSWORD:-}" ]; then
      echo "CREATE USER 'root'@'%' IDENTIFIED BY '$(quote "$MARIADB_ROOT_PASSWORD")';"
      echo "GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;"
      echo "ALTER USER 'root'@'localhost' IDENTIFIED BY '$(quote "$MARIADB_ROOT_PASSWORD")';"
    fi
    echo "FLUSH PRIVILEGES;"
  } | mariadb --socket=/run/mysqld/init.sock -u root
  kill "$pid" && wait "$pid" || true
  echo "mariadb-entrypoint: database '${db}' and user '${MARIADB_USER:-}' made"
fi
server --bind-address=0.0.0.0 --port=3306
