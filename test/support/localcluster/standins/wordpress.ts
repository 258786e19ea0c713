// Stand-in for bitnami/wordpress: a small web front end that, for every page, connects to its
// database at MARIADB_HOST:MARIADB_PORT (a Service name, resolved through the cluster DNS) with
// the WORDPRESS_DATABASE_* credentials, using Debian's mariadb client. 200 with the blog's front
// page when the database answers, 503 with the error when it does not.
import { createServer } from "node:http";
import { execFile } from "node:child_process";
import { errorMessage } from "../../../../pkg/errors/error-message.ts";

const env = process.env;
const port = Number(env["PORT"] ?? "80");

function queryDatabase(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile("mariadb", [
      "-h", env["MARIADB_HOST"] ?? "mariadb", "-P", env["MARIADB_PORT"] ?? "3306",
      "-u", env["WORDPRESS_DATABASE_USER"] ?? "", `-p${env["WORDPRESS_DATABASE_PASSWORD"] ?? ""}`,
      "-D", env["WORDPRESS_DATABASE_NAME"] ?? "", "--connect-timeout=3", "-N", "-e", "SELECT VERSION()",
    ], { timeout: 5000 }, (err, stdout, stderr) => (err === null ? resolve(stdout.trim()) : reject(new Error(stderr.trim() || err.message))));
  });
}

createServer((req, res) => {
  queryDatabase().then(
    (version) => {
      res.writeHead(200, { "content-type": "text/html", "x-powered-by": "signpost wordpress stand-in" });
      res.end(`<!DOCTYPE html>\n<html><head><title>User&#039;s Blog! | Just another WordPress site</title></head>\n<body><h1>User's Blog!</h1><p>Hello world!</p><!-- database ${env["MARIADB_HOST"] ?? ""}: MariaDB ${version} --></body></html>\n`);
    },
    (err: unknown) => {
      res.writeHead(503, { "content-type": "text/plain" });
      res.end(`Error establishing a database connection: ${errorMessage(err)}\n`);
    },
  );
}).listen(port, "0.0.0.0");
process.on("SIGTERM", () => process.exit(0));
