// The `cluster.autopath` and `cluster.autopathSearch` fields of the --config file (CoreDNS's
// `autopath @kubernetes`), and the check that they come with `pods: verified`: autopath needs
// to know which Pod a source address is, which only the verified mode's Pod watch tells.
import { SignpostError } from "../../errors/errors.ts";
import type { PodMode } from "../record-store.ts";

/** Server-side search-path expansion; absent when off. */
export interface AutopathConfig {
  /** The host's search domains (the node's resolv.conf adds them after the cluster's), lower-case. */
  readonly search: readonly string[];
}

function bad(path: string, message: string): SignpostError {
  return new SignpostError("SP_BAD_CONFIG", path, message);
}

const LABEL = /^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$/;

export function readAutopath(value: unknown, path: string): boolean {
  if (typeof value !== "boolean") throw bad(path, `must be true or false, not ${JSON.stringify(value)}`);
  return value;
}

/** A list of domain names, as a resolv.conf's `search` line holds them. */
export function readAutopathSearch(value: unknown, path: string): string[] {
  if (!Array.isArray(value)) throw bad(path, "must be a list of domain names (the node's resolv.conf search domains)");
  return value.map((entry, i) => {
    const text = typeof entry === "string" ? entry.toLowerCase().replace(/\.$/, "") : "";
    if (text === "" || text.length > 253 || !text.split(".").every((label) => LABEL.test(label))) {
      throw bad(`${path}[${i}]`, `${JSON.stringify(entry)} is not a domain name (example: corp.example.com)`);
    }
    return text;
  });
}

/** The effective autopath setting; `where` names the file in errors. */
export function autopathConfig(enabled: boolean | undefined, search: readonly string[] | undefined, pods: PodMode, where: string): AutopathConfig | undefined {
  if (enabled !== true) {
    if (search !== undefined && search.length > 0) throw bad(`${where}: cluster.autopathSearch`, "is set but cluster.autopath is not true");
    return undefined;
  }
  if (pods !== "verified") {
    throw bad(`${where}: cluster.autopath`, `needs cluster.pods: verified (pods is ${pods}): autopath must know which Pod a query comes from, and only the verified mode watches Pods`);
  }
  return { search: search ?? [] };
}
