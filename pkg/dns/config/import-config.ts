// `signpost-dns import`: a CoreDNS Corefile or a kube-dns ConfigMap turned into the equivalent
// DNSConfiguration, and every plugin or option that has none named with the line it came from.
// What signpost-dns always does (errors, health, ready, prometheus, loop, reload, the reverse
// zones' fallthrough) converts to nothing: it needs no setting. log, errors and autopath are
// converted in import-log.ts.
import { dump, load } from "js-yaml";
import { SignpostError } from "../../errors/errors.ts";
import { type Directive, parseCorefile, type ServerBlock } from "./corefile.ts";
import { DNS_CONFIG_API_VERSION, DNS_CONFIG_KIND, parseForwardTarget } from "./dns-config-file.ts";
import { type CacheOut, convertCache } from "./import-cache.ts";
import { convertForwardTransport, COREDNS_TRANSPORT, type ForwardTransportOut } from "./import-forward-options.ts";
import { convertAutopath, convertErrors, convertLog } from "./import-log.ts";
import { convertHosts, convertKubernetesOption, convertLoadbalance, convertReverseZones, convertRewrite } from "./import-plugins.ts";
import { errorFirstLine, errorMessage } from "../../errors/error-message.ts";

/** Something the source sets that the output does not carry, and why. */
export interface ImportNote {
  /** "Corefile:12", or "cm.yaml: data.federations". */
  readonly where: string;
  readonly what: string;
  readonly reason: string;
}

export interface ImportResult {
  /** The DNSConfiguration, as a plain object in the file's layout. */
  readonly config: Record<string, unknown>;
  readonly notes: readonly ImportNote[];
  /** How many settings were carried over; 0 means nothing could be converted. */
  readonly converted: number;
}

interface ForwardOut extends ForwardTransportOut {
  zone: string;
  to: string[];
  policy?: string;
  maxFails?: number;
  healthCheck?: string;
}

type ForwardExtras = Omit<ForwardOut, "zone" | "to">;

class Builder {
  readonly notes: ImportNote[] = [];
  converted = 0;
  listen: string | undefined;
  cluster: { zone?: string; ttl?: number; pods?: string; autopath?: boolean } & Record<string, unknown> = {};
  readonly forward: ForwardOut[] = [];
  /** hosts, rewrite, loadbalance (import-plugins.ts). */
  readonly plugins: { hosts?: Record<string, unknown>; rewrite?: Record<string, unknown>[]; loadbalance?: string } = {};
  /** log.queries, log.classes, log.errors (import-log.ts). */
  readonly log: Record<string, unknown> = {};
  lameduck: string | undefined;
  cache: CacheOut | undefined;
  /** `cache` directives of stub server blocks: signpost-dns has one cache, the root block's. */
  readonly stubCaches: Directive[] = [];

  readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  note(line: number | string, what: string, reason: string): void {
    this.notes.push({ where: typeof line === "number" ? `${this.file}:${line}` : `${this.file}: ${line}`, what, reason });
  }

  addForward(zone: string, to: string[], extras: ForwardExtras = {}): void {
    const existing = this.forward.find((f) => f.zone === zone);
    if (existing !== undefined) existing.to.push(...to.filter((t) => !existing.to.includes(t)));
    else this.forward.push({ zone, to: [...new Set(to)], ...extras });
    this.converted++;
  }

  result(): ImportResult {
    const config: Record<string, unknown> = { apiVersion: DNS_CONFIG_API_VERSION, kind: DNS_CONFIG_KIND };
    if (this.listen !== undefined) config["listen"] = this.listen;
    if (Object.keys(this.cluster).length > 0) config["cluster"] = this.cluster;
    if (this.forward.length > 0) config["forward"] = this.forward;
    if (this.cache !== undefined) config["cache"] = this.cache;
    Object.assign(config, this.plugins);
    if (Object.keys(this.log).length > 0) config["log"] = this.log;
    if (this.lameduck !== undefined) config["lameduck"] = this.lameduck;
    return { config, notes: this.notes, converted: this.converted };
  }
}

const text = (d: Directive): string => [d.name, ...d.args].join(" ");

/** "dns://example.corp.:53" as zone "example.corp" and port 53; null for another scheme. */
function serverKey(key: string): { zone: string; port: number } | null {
  const scheme = /^([a-z]+):\/\//.exec(key)?.[1];
  if (scheme !== undefined && scheme !== "dns") return null;
  const rest = scheme === undefined ? key : key.slice("dns://".length);
  const m = /^(.*?)(?::(\d+))?$/.exec(rest);
  const zone = (m?.[1] ?? "").toLowerCase().replace(/\.$/, "");
  return { zone: zone === "" ? "." : zone, port: m?.[2] === undefined ? 53 : Number(m[2]) };
}

const isReverse = (zone: string) => zone === "in-addr.arpa" || zone === "ip6.arpa" || zone.endsWith(".in-addr.arpa") || zone.endsWith(".ip6.arpa");

/** A forward's `to` as the file writes it, or null when it cannot be one (a note is made). */
function forwardTo(b: Builder, where: number | string, to: string): string | null {
  if (/^[a-z]+:\/\//.test(to) && !to.startsWith("dns://")) {
    b.note(where, `forward ... ${to}`, "signpost-dns forwards over plain DNS (UDP, then TCP) only; DNS over TLS/HTTPS/gRPC has no equivalent");
    return null;
  }
  const plain = to.replace(/^dns:\/\//, "");
  try {
    const target = parseForwardTarget(plain, "to");
    if (target.kind === "resolv-conf") return target.path;
    return target.address.includes(":") ? `[${target.address}]:${target.port}` : target.port === 53 ? target.address : `${target.address}:${target.port}`;
  } catch {
    b.note(where, `forward ... ${to}`, "is not an IP address, IP:PORT or a resolv.conf path");
    return null;
  }
}

const forwardOptionReasons: Readonly<Record<string, string>> = {
  max_concurrent: "takes one whole number from 1 to 1000000",
  policy: "is not one of random, round_robin, sequential",
  health_check: "takes one duration here; its no_rec and domain arguments have no equivalent",
  max_fails: "takes one whole number",
  force_tcp: "takes no argument",
  prefer_udp: "takes no argument",
  expire: "takes one duration up to 1h",
  except: "no equivalent: give the excepted names a forward zone of their own",
};

function convertForward(b: Builder, d: Directive, blockZones: readonly string[], cluster: string | undefined): void {
  const [from = ".", ...targets] = d.args;
  const zones = from === "." ? blockZones : [from.toLowerCase().replace(/\.$/, "")];
  const to = targets.map((t) => forwardTo(b, d.line, t)).filter((t): t is string => t !== null);
  // CoreDNS's defaults written out, so the migrated zone forwards as it did (signpost's own
  // defaults are sequential without health checks).
  const extras: ForwardExtras = { policy: "random", maxFails: 2, healthCheck: "500ms", ...COREDNS_TRANSPORT };
  for (const option of d.options) {
    const [arg = "", ...more] = option.args;
    if (option.name === "policy" && more.length === 0 && (arg === "random" || arg === "round_robin" || arg === "sequential")) extras.policy = arg;
    else if (option.name === "max_fails" && more.length === 0 && /^\d+$/.test(arg)) extras.maxFails = Number(arg);
    else if (option.name === "health_check" && more.length === 0 && /^\d+(\.\d+)?(ms|s|m|h)$/.test(arg)) extras.healthCheck = arg;
    else if (convertForwardTransport(option, extras)) continue;
    else b.note(option.line, `forward option ${text(option)}`, forwardOptionReasons[option.name] ?? "is not a forward option signpost-dns knows");
  }
  if (to.length === 0) return;
  for (const zone of zones) {
    if (cluster !== undefined && zone !== "." && (zone === cluster || zone.endsWith(`.${cluster}`))) {
      b.note(d.line, text(d), `forwards names inside the cluster zone ${cluster}, which signpost-dns answers from the cluster`);
      continue;
    }
    b.addForward(zone, to, extras);
  }
}

function convertKubernetes(b: Builder, d: Directive): void {
  const zones = d.args.map((z) => z.toLowerCase().replace(/\.$/, ""));
  const zone = zones.find((z) => !isReverse(z));
  if (zone !== undefined) {
    b.cluster.zone = zone;
    b.converted++;
  }
  for (const other of zones.filter((z) => z !== zone && !isReverse(z))) {
    b.note(d.line, `kubernetes ... ${other}`, "signpost-dns serves one cluster zone, and PTR records under in-addr.arpa and ip6.arpa for the service and pod addresses it knows");
  }
  convertReverseZones(b, d, b.cluster);
  for (const o of d.options) {
    if (o.name === "pods" && (o.args[0] === "insecure" || o.args[0] === "verified" || o.args[0] === "disabled")) {
      b.cluster.pods = o.args[0];
      b.converted++;
    } else if (o.name === "ttl" && o.args.length === 1 && /^\d+$/.test(o.args[0] ?? "") && Number(o.args[0]) <= 3600) {
      b.cluster.ttl = Number(o.args[0]);
      b.converted++;
    } else if (convertKubernetesOption(b, o, b.cluster)) {
      // namespaces, endpoint_pod_names, noendpoints, fallthrough
    } else if (o.name === "kubeconfig" || o.name === "endpoint") {
      b.note(o.line, text(o), "is the --kubeconfig flag of signpost-dns (in a pod: the service account, as CoreDNS)");
    } else {
      b.note(o.line, `kubernetes option ${text(o)}`, "has no equivalent in signpost-dns");
    }
  }
}

/** Plugins signpost-dns always runs as kubeadm configures them: nothing to set. */
const builtIn: Readonly<Record<string, string>> = {
  ready: "--ready-port",
  prometheus: "--metrics-port",
  loop: "",
  reload: "--config-poll-interval",
};

function convertRootDirective(b: Builder, d: Directive, zones: readonly string[], cluster: string | undefined): void {
  switch (d.name) {
    case "kubernetes":
      return; // read first, in convertBlock
    case "forward":
      return convertForward(b, d, zones, cluster);
    case "hosts": {
      const hosts = convertHosts(b, d);
      if (hosts !== null) b.plugins.hosts = hosts;
      return;
    }
    case "rewrite":
      b.plugins.rewrite = [...(b.plugins.rewrite ?? []), ...convertRewrite(b, d)];
      if (b.plugins.rewrite.length === 0) delete b.plugins.rewrite;
      return;
    case "loadbalance": {
      const policy = convertLoadbalance(b, d);
      if (policy !== null) b.plugins.loadbalance = policy;
      return;
    }
    case "health": {
      if (d.args.length > 0) b.note(d.line, text(d), "the address of /health is the --health-port and --http-address flags");
      for (const o of d.options) {
        if (o.name === "lameduck" && o.args.length === 1) {
          b.lameduck = o.args[0];
          b.converted++;
        } else b.note(o.line, `health option ${text(o)}`, "has no equivalent in signpost-dns");
      }
      return;
    }
    case "cache":
      b.cache = convertCache(d, cluster, (line, what, reason) => b.note(line, what, reason));
      b.converted++;
      return;
    case "log": {
      const log = convertLog(d, (line, what, reason) => b.note(line, what, reason));
      if (log !== null) {
        Object.assign(b.log, log);
        b.converted++;
      }
      return;
    }
    case "errors": {
      const consolidate = convertErrors(d, (line, what, reason) => b.note(line, what, reason));
      if (consolidate.length > 0) {
        b.log["errors"] = { consolidate };
        b.converted++;
      }
      return;
    }
    case "autopath":
      if (convertAutopath(d, b.cluster.pods, (line, what, reason) => b.note(line, what, reason))) {
        b.cluster.autopath = true;
        b.converted++;
      }
      return;
    default: {
      const flag = builtIn[d.name];
      if (flag === undefined) {
        b.note(d.line, text(d), `the ${d.name} plugin has no equivalent in signpost-dns`);
        return;
      }
      // kubeadm's `prometheus :9153` is signpost-dns's default.
      const isDefault = d.name === "prometheus" && d.args.length === 1 && d.args[0] === ":9153" && d.options.length === 0;
      if ((d.args.length > 0 || d.options.length > 0) && flag !== "" && !isDefault) b.note(d.line, text(d), `signpost-dns always does this; its setting is the ${flag} flag`);
    }
  }
}

function convertBlock(b: Builder, block: ServerBlock, rootPort: number | undefined, cluster: string | undefined): void {
  if (block.keys.length === 0) {
    for (const d of block.directives) b.note(d.line, text(d), "is outside any server block (an import or snippet); not converted: convert the file it names on its own");
    return;
  }
  const keys = block.keys.map(serverKey);
  if (keys.some((k) => k === null)) {
    b.note(block.line, block.keys.join(" "), "signpost-dns serves plain DNS only; this server block (TLS, HTTPS or gRPC) is not converted");
    return;
  }
  const zones = keys.flatMap((k) => (k === null ? [] : [k.zone]));
  const port = keys[0]?.port ?? 53;
  if (rootPort !== undefined && port !== rootPort) b.note(block.line, block.keys.join(" "), `signpost-dns serves one port (${rootPort}); this block's names are served there`);
  const isRoot = zones.includes(".");
  for (const d of block.directives) {
    if (isRoot) {
      convertRootDirective(b, d, zones, cluster);
    } else if (d.name === "forward") {
      convertForward(b, d, zones, cluster);
    } else if (d.name === "cache") {
      b.stubCaches.push(d);
    } else if (d.name !== "errors") {
      b.note(d.line, text(d), `signpost-dns gives a stub domain upstreams only; ${d.name} in this server block is not converted`);
    }
  }
}

export function importCorefile(source: string, file: string): ImportResult {
  const b = new Builder(file);
  const blocks = parseCorefile(source, file);
  const root = blocks.find((block) => block.keys.some((k) => serverKey(k)?.zone === "."));
  const rootPort = root === undefined ? undefined : (serverKey(root.keys[0] ?? "")?.port ?? 53);
  if (rootPort !== undefined && rootPort !== 53) {
    b.listen = `0.0.0.0:${rootPort}`;
    b.converted++;
  }
  // The cluster zone first: a stub domain inside it is named, whichever block comes first.
  for (const d of blocks.flatMap((block) => block.directives.filter((x) => x.name === "kubernetes"))) convertKubernetes(b, d);
  const cluster = b.cluster.zone ?? (blocks.some((block) => block.directives.some((d) => d.name === "kubernetes")) ? "cluster.local" : undefined);
  for (const block of blocks) convertBlock(b, block, rootPort, cluster);
  for (const d of b.stubCaches) {
    const same = b.cache !== undefined && JSON.stringify(convertCache(d, cluster, () => {})) === JSON.stringify(b.cache);
    if (!same) b.note(d.line, text(d), "signpost-dns has one cache for every forwarded zone, set by the root block's cache");
  }
  return b.result();
}

function jsonField(value: unknown, where: string): unknown {
  if (typeof value !== "string") throw new SignpostError("SP_BAD_CONFIG", where, "must be a string holding JSON");
  try {
    return JSON.parse(value) as unknown;
  } catch (err) {
    throw new SignpostError("SP_BAD_CONFIG", where, `is not JSON: ${errorMessage(err)}`);
  }
}

/** kube-dns's ConfigMap (data.stubDomains, data.upstreamNameservers), as kubeadm's CoreDNS migration reads it. */
export function importKubeDnsConfigMap(source: string, file: string, clusterZone = "cluster.local"): ImportResult {
  const b = new Builder(file);
  let doc: unknown;
  try {
    doc = load(source);
  } catch (err) {
    throw new SignpostError("SP_BAD_CONFIG", file, `not YAML or JSON: ${errorFirstLine(err)}`);
  }
  const data = (doc as { data?: unknown } | null)?.data;
  if (data === null || typeof data !== "object" || Array.isArray(data)) throw new SignpostError("SP_BAD_CONFIG", `${file}: data`, "a kube-dns ConfigMap has a data mapping (stubDomains, upstreamNameservers)");
  for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
    const where = `${file}: data.${key}`;
    if (key === "upstreamNameservers") {
      const list = jsonField(value, where);
      if (!Array.isArray(list)) throw new SignpostError("SP_BAD_CONFIG", where, "must be a JSON list of addresses");
      const to = list.flatMap((a) => (typeof a === "string" ? [forwardTo(b, `data.${key}`, a)] : [])).filter((t): t is string => t !== null);
      if (to.length > 0) b.addForward(".", to);
    } else if (key === "stubDomains") {
      const stubs = jsonField(value, where);
      if (stubs === null || typeof stubs !== "object" || Array.isArray(stubs)) throw new SignpostError("SP_BAD_CONFIG", where, 'must be a JSON mapping of domain to addresses ({"acme.local": ["1.2.3.4"]})');
      for (const [domain, addresses] of Object.entries(stubs as Record<string, unknown>)) {
        const zone = domain.toLowerCase().replace(/\.$/, "");
        if (zone === clusterZone || zone.endsWith(`.${clusterZone}`)) {
          b.note(`data.stubDomains.${domain}`, domain, `is inside the cluster zone ${clusterZone}, whose names signpost-dns answers from the cluster`);
          continue;
        }
        const list = Array.isArray(addresses) ? addresses : [];
        const to = list.flatMap((a) => (typeof a === "string" ? [forwardTo(b, `data.stubDomains.${domain}`, a)] : [])).filter((t): t is string => t !== null);
        if (to.length > 0) b.addForward(zone, to);
        else b.note(`data.stubDomains.${domain}`, domain, "has no usable upstream address");
      }
    } else if (key === "federations") {
      b.note(`data.${key}`, key, "kube-dns federation (removed from Kubernetes) has no equivalent");
    } else {
      b.note(`data.${key}`, key, "is not a kube-dns setting signpost-dns knows");
    }
  }
  return b.result();
}

/** The DNSConfiguration as YAML, with a comment naming each thing that was not carried over. */
export function renderImport(result: ImportResult, source: string): string {
  const header = [`# signpost-dns DNSConfiguration converted from ${source} by \`signpost-dns import\`.`];
  if (result.notes.length > 0) {
    header.push("# Not converted:");
    for (const n of result.notes) header.push(`#   ${n.where}: ${n.what}: ${n.reason}`);
  }
  return `${header.join("\n")}\n${dump(result.config, { lineWidth: 120, flowLevel: 3 })}`;
}
