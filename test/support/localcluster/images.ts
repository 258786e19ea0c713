// The local cluster has no container runtime: each image maps to a local program through this one
// table. A stand-in is a small program that behaves like the image for what the tutorial and the
// tests use, and is marked as such; an image with no entry fails the pod with ErrImagePull.
// The tutorial's images (localhost/tutorial/*: examples/tutorial/, built for kind by
// hack/tutorial-images.sh) map to the same programs as the images they stand for.
import { join } from "node:path";

export interface ContainerRequest {
  readonly image: string;
  readonly command: readonly string[];
  readonly args: readonly string[];
  readonly ports: readonly number[];
}

export interface Launch {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

interface ImageEntry {
  /** Repositories (registry and tag stripped) this entry serves. */
  readonly repositories: readonly string[];
  readonly standIn: boolean;
  readonly describe: string;
  readonly launch: (c: ContainerRequest, ctx: { repoRoot: string; node: string }) => Launch;
}

function standIn(ctx: { repoRoot: string; node: string }, file: string, env: Record<string, string>): Launch {
  return { command: ctx.node, args: ["--disable-warning=ExperimentalWarning", join(ctx.repoRoot, "test", "support", "localcluster", "standins", file)], env };
}

export const imageTable: readonly ImageEntry[] = [
  {
    repositories: ["signpost/signpost", "signpost"],
    standIn: false,
    describe: "signpost's own image: the checkout's entry points, /app mapped to the checkout",
    launch: (c, ctx) => {
      const [first, ...rest] = c.command.length > 0 ? c.command : ["/app/bin/signpost-proxy"];
      const command = (first ?? "").replace(/^\/app\//, `${ctx.repoRoot}/`);
      return { command, args: [...rest, ...c.args], env: {} };
    },
  },
  {
    repositories: ["nginx", "library/nginx", "tutorial/nginx"],
    standIn: true,
    describe: "stand-in: an HTTP server that serves nginx's welcome page on port 80",
    launch: (c, ctx) => standIn(ctx, "nginx.ts", { PORT: String(c.ports[0] ?? 80) }),
  },
  {
    repositories: ["signpost/echo", "ealen/echo-server"],
    standIn: true,
    describe: "stand-in: an HTTP echo server that reports its hostname and the client's IP",
    launch: (c, ctx) => standIn(ctx, "echo.ts", { PORT: String(c.ports[0] ?? 8080) }),
  },
  {
    repositories: ["busybox", "library/busybox", "tutorial/busybox"],
    standIn: true,
    describe: "stand-in: Debian's /bin/sh and tools (sleep, cat, wget, nslookup) instead of busybox",
    launch: (c) => {
      const argv = [...c.command, ...c.args];
      if (argv.length === 0) return { command: "/bin/sh", args: [], env: {} };
      const [first, ...rest] = argv;
      return { command: first ?? "/bin/sh", args: rest, env: {} };
    },
  },
  {
    repositories: ["bitnami/mariadb", "mariadb", "library/mariadb", "tutorial/mariadb"],
    standIn: true,
    describe: "Debian's real MariaDB server, set up from the bitnami/mariadb image's MARIADB_* variables",
    launch: (_c, ctx) => standIn(ctx, "mariadb.ts", {}),
  },
  {
    repositories: ["bitnami/wordpress", "wordpress", "library/wordpress", "tutorial/wordpress"],
    standIn: true,
    describe: "stand-in: a small web front end that queries its database at MARIADB_HOST on every page",
    launch: (c, ctx) => standIn(ctx, "wordpress.ts", { PORT: String(c.ports[0] ?? 80) }),
  },
];

/** The repository of an image reference: "docker.io/library/nginx:1.27" gives "nginx". */
export function repositoryOf(image: string): string {
  let ref = image.split("@")[0] ?? image;
  const slash = ref.lastIndexOf("/");
  const colon = ref.lastIndexOf(":");
  if (colon > slash) ref = ref.slice(0, colon);
  const parts = ref.split("/");
  if (parts.length > 1 && /[.:]|^localhost$/.test(parts[0] ?? "")) parts.shift();
  if (parts[0] === "library" && parts.length === 2) parts.shift();
  return parts.join("/");
}

export function resolveImage(c: ContainerRequest, ctx: { repoRoot: string; node: string }): Launch | null {
  const repo = repositoryOf(c.image);
  const entry = imageTable.find((e) => e.repositories.includes(repo));
  return entry === undefined ? null : entry.launch(c, ctx);
}
