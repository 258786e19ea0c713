// Stand-in for the nginx image: answers every GET with nginx's default welcome page, and writes
// an access-log line per request to stdout as the nginx image does. The X-Served-By header names
// the pod, as the tutorial's image built for kind (hack/kind/tutorial/nginx.Dockerfile) does.
import { createServer } from "node:http";
import { hostname } from "node:os";

const page = `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>
<p><em>Thank you for using nginx.</em></p>
</body>
</html>
`;

const port = Number(process.env["PORT"] ?? "80");
createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html", server: "nginx (signpost stand-in)", "x-served-by": hostname() });
  res.end(req.method === "HEAD" ? undefined : page);
  const client = (req.socket.remoteAddress ?? "-").replace(/^::ffff:/, "");
  process.stdout.write(`${client} - - [${new Date().toISOString()}] "${req.method ?? "GET"} ${req.url ?? "/"} HTTP/${req.httpVersion}" 200 ${page.length} "-" "${req.headers["user-agent"] ?? "-"}"\n`);
}).listen(port, "0.0.0.0");
process.on("SIGTERM", () => process.exit(0));
