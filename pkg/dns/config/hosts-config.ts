// The `hosts` section of the DNS configuration (CoreDNS's hosts plugin): inline entries, a hosts
// file re-read when it changes, the zones it answers for, ttl, reverse names and fallthrough.
// Inline entries are checked line by line here; a hosts file's bad lines are skipped when read.
import { DEFAULT_HOSTS_FILE_BYTES, DEFAULT_HOSTS_RELOAD_MS, DEFAULT_HOSTS_TTL, type HostsSettings } from "../hosts-source.ts";
import { parseHosts } from "../hosts-table.ts";
import { bad, boolean, bytes, durationMs, forwardZoneName, mapping, string } from "./dns-config-file.ts";

/** CoreDNS's hosts plugin caps no ttl; a day is beyond any use here. */
const MAX_HOSTS_TTL = 86_400;
/** A larger bound would let one ConfigMap key cost hundreds of megabytes of names. */
const MAX_HOSTS_FILE_BYTES = 64 * 1024 * 1024;

const fields = ["entries", "file", "zones", "ttl", "noReverse", "reload", "fallthrough", "maxFileSize"];

export function parseHostsConfig(value: unknown, path: string): HostsSettings {
  const m = mapping(value, path);
  for (const name of Object.keys(m)) {
    if (!fields.includes(name)) throw bad(`${path}.${name}`, `is not a field of hosts; known: ${fields.join(", ")}`);
  }
  const present = (name: string): unknown => (m[name] === null ? undefined : m[name]);
  const entries = list(present("entries"), `${path}.entries`).map((e, i) => hostsLine(e, `${path}.entries[${i}]`));
  const fileValue = present("file");
  const file = fileValue === undefined ? null : string(fileValue, `${path}.file`);
  if (file !== null && !file.startsWith("/")) throw bad(`${path}.file`, `"${file}" must be an absolute path`);
  if (file === null && entries.length === 0) throw bad(path, "gives neither entries nor a file");
  const zones = present("zones") === undefined ? ["."] : zoneList(present("zones"), `${path}.zones`);
  const ttlValue = present("ttl") ?? DEFAULT_HOSTS_TTL;
  if (typeof ttlValue !== "number" || !Number.isInteger(ttlValue) || ttlValue < 0 || ttlValue > MAX_HOSTS_TTL) {
    throw bad(`${path}.ttl`, `must be a whole number of seconds from 0 to ${MAX_HOSTS_TTL}, not ${JSON.stringify(ttlValue)}`);
  }
  const reloadMs = present("reload") === undefined ? DEFAULT_HOSTS_RELOAD_MS : durationMs(present("reload"), `${path}.reload`);
  if (reloadMs !== 0 && reloadMs < 100) throw bad(`${path}.reload`, "must be 0 (read once) or at least 100ms");
  const maxFileBytes = present("maxFileSize") === undefined ? DEFAULT_HOSTS_FILE_BYTES : bytes(present("maxFileSize"), `${path}.maxFileSize`);
  if (maxFileBytes < 1 || maxFileBytes > MAX_HOSTS_FILE_BYTES) throw bad(`${path}.maxFileSize`, "must be from 1 byte to 64Mi");
  const fall = present("fallthrough");
  const fallthrough = fall === undefined ? [] : typeof fall === "boolean" ? (fall ? zones : []) : zoneList(fall, `${path}.fallthrough`);
  const noReverse = present("noReverse") === undefined ? false : boolean(present("noReverse"), `${path}.noReverse`);
  return { entries, file, zones, ttl: ttlValue, reverse: !noReverse, reloadMs, maxFileBytes, fallthrough };
}

function list(value: unknown, path: string): unknown[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw bad(path, "must be a list");
  return value;
}

function zoneList(value: unknown, path: string): string[] {
  const zones = list(value, path).map((z, i) => forwardZoneName(z, `${path}[${i}]`));
  if (zones.length === 0) throw bad(path, "must name at least one zone");
  return zones;
}

/** One inline entry: `ADDRESS NAME [ALIAS...]`, refused whole when any part is not. */
function hostsLine(value: unknown, path: string): string {
  const line = string(value, path);
  const { table, errors } = parseHosts(line);
  const first = errors[0];
  if (first !== undefined) throw bad(path, first.reason);
  if (table.byName.size === 0 && table.wildcards.size === 0) throw bad(path, `"${line}" is not ADDRESS NAME [ALIAS...]`);
  return line;
}
