// Runs Debian's real MariaDB server the way the bitnami/mariadb image does: a data directory in
// /bitnami/mariadb/data (the pod's volume, if mounted), a database and a user from
// MARIADB_DATABASE / MARIADB_USER / MARIADB_PASSWORD, a root password from
// MARIADB_ROOT_PASSWORD, listening on 3306 on every address of the pod.
import { spawn, execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";

const env = process.env;
const base = existsSync("/bitnami/mariadb") ? "/bitnami/mariadb" : join(env["TMPDIR"] ?? "/tmp", `mariadb-${process.pid}`);
const data = join(base, "data");
const socket = join(base, "mysqld.sock");
const port = env["MARIADB_PORT_NUMBER"] ?? "3306";
mkdirSync(data, { recursive: true });

const fresh = !existsSync(join(data, "mysql"));
if (fresh) {
  execFileSync("mariadb-install-db", [`--datadir=${data}`, "--user=root", "--auth-root-authentication-method=normal", "--skip-test-db"], { stdio: "inherit" });
}
const server = spawn("mariadbd", [
  `--datadir=${data}`, "--user=root", `--socket=${socket}`, `--port=${port}`, "--bind-address=0.0.0.0",
  `--pid-file=${join(base, "mariadbd.pid")}`, "--skip-name-resolve", "--log-error=", "--innodb-buffer-pool-size=32M",
], { stdio: "inherit" });
server.on("exit", (code) => process.exit(code ?? 1));
process.on("SIGTERM", () => server.kill("SIGTERM"));

const q = (s: string): string => s.replace(/\\/g, "\\\\").replace(/'/g, "\\'");
for (let i = 0; i < 100 && !existsSync(socket); i++) await sleep(100);
if (fresh) {
  const db = env["MARIADB_DATABASE"] ?? "";
  const user = env["MARIADB_USER"] ?? "";
  const sql: string[] = [];
  if (db !== "") sql.push(`CREATE DATABASE IF NOT EXISTS \`${db.replace(/`/g, "")}\`;`);
  if (user !== "") {
    sql.push(`CREATE USER IF NOT EXISTS '${q(user)}'@'%' IDENTIFIED BY '${q(env["MARIADB_PASSWORD"] ?? "")}';`);
    if (db !== "") sql.push(`GRANT ALL ON \`${db.replace(/`/g, "")}\`.* TO '${q(user)}'@'%';`);
  }
  const rootPassword = env["MARIADB_ROOT_PASSWORD"] ?? "";
  if (rootPassword !== "") {
    sql.push(`CREATE USER IF NOT EXISTS 'root'@'%' IDENTIFIED BY '${q(rootPassword)}';`, `GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;`);
    sql.push(`ALTER USER 'root'@'localhost' IDENTIFIED BY '${q(rootPassword)}';`);
  }
  sql.push("FLUSH PRIVILEGES;");
  execFileSync("mariadb", [`--socket=${socket}`, "-u", "root"], { input: sql.join("\n"), stdio: ["pipe", "inherit", "inherit"] });
  console.log("mariadb (signpost stand-in for bitnami/mariadb): ready for connections on port", port);
}
