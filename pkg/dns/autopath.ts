// Server-side search-path expansion (CoreDNS's `autopath @kubernetes`): a Pod with ndots:5 asks
// NAME.<ns>.svc.<zone> first for every outside name, then walks its search list one NXDOMAIN at
// a time. When the query comes from the address of exactly one live Pod and names that Pod's
// first search domain, signpost-dns walks the list itself and answers the first name that
// exists, as a CNAME from the asked name to it plus its records: one query instead of up to six.
// CoreDNS trusts the first Pod its index holds for an address; here an address that no Pod or
// several Pods claim (an IP just reused, hostNetwork Pods) gets the plain answer.
import { canonicalIP } from "../model/ip.ts";
import { answerQuestion, type AnswerOptions } from "./answer.ts";
import { askUpstream, type Forward, resolveTarget } from "./cname-chase.ts";
import { family } from "./metrics.ts";
import type { Query } from "./query-decode.ts";
import { RCODE, type Reply, type RRSet, TYPE } from "./records.ts";
import type { RecordStore } from "./record-store.ts";

export interface AutopathOptions {
  readonly store: RecordStore;
  /** The upstream, for the names outside the zone; without it those are skipped. */
  readonly forward?: Forward;
  /** The host's search domains after the cluster's (the node's resolv.conf), lower-case, without the trailing dot. */
  readonly search: readonly string[];
  readonly answerOptions?: AnswerOptions;
  /** Called once for each query answered by a name further down the search list. */
  readonly onSuccess?: () => void;
}

/**
 * The walk for one query from `source`: null when autopath does not apply (the plain answer
 * stands, and may come from the cache); else the reply to send, which is the plain NXDOMAIN
 * when no name on the list exists.
 */
export type Autopath = (query: Query, source: string | undefined) => Promise<Reply> | null;

/**
 * Only the address types are walked: they are what getaddrinfo asks through the search list,
 * and an upstream's A, AAAA and CNAME records are what signpost-dns re-encodes under a new name.
 */
const WALKED_TYPES: ReadonlySet<number> = new Set([TYPE.A, TYPE.AAAA]);

export function createAutopath(options: AutopathOptions): Autopath {
  const { store, forward } = options;
  const answerOptions = options.answerOptions ?? {};
  return (query, source) => {
    if (!WALKED_TYPES.has(query.qtype) || !store.synced || source === undefined) return null;
    const names = searchList(store, query.name, source, options.search);
    if (names === null) return null;
    // The name as asked comes first: if it exists, the plain path answers it (and caches it).
    const asked = answerQuestion(store, query.name, query.qtype, answerOptions);
    if (asked.kind !== "reply" || asked.rcode !== RCODE.NXDOMAIN) return null;
    return walk(names.slice(1), query.qtype, { store, forward, answerOptions }).then((found) => {
      if (found === null) return asked;
      options.onSuccess?.();
      return found;
    });
  };
}

/**
 * The names a Pod's resolver would try for `name`, the name itself first, when `source` is the
 * address of exactly one Pod and `name` is NAME.<that Pod's namespace>.svc.<zone>; else null.
 * The list is kubelet's for dnsPolicy ClusterFirst, then the host's search domains, then NAME.
 */
export function searchList(store: RecordStore, name: string, source: string, hostSearch: readonly string[]): string[] | null {
  const ip = canonicalIP(source.startsWith("::ffff:") && source.includes(".") ? source.slice(7) : source);
  const pod = ip === null ? null : store.podAt(ip);
  if (pod === null) return null;
  const first = `${pod.namespace}.svc.${store.zone}`;
  if (!name.endsWith(`.${first}`)) return null;
  const base = name.slice(0, -first.length - 1);
  return [name, `${base}.svc.${store.zone}`, `${base}.${store.zone}`, ...hostSearch.map((domain) => `${base}.${domain}`), base];
}

interface WalkContext {
  readonly store: RecordStore;
  readonly forward: Forward | undefined;
  readonly answerOptions: AnswerOptions;
}

/** The first of `names` that is not NXDOMAIN, as an answer under the asked name; null if none. */
async function walk(names: readonly string[], qtype: number, context: WalkContext): Promise<Reply | null> {
  for (const name of names) {
    const reply = await lookUp(name, qtype, context);
    if (reply === null || reply.rcode !== RCODE.NOERROR) continue;
    return aliased(name, reply);
  }
  return null;
}

/** `name`'s answer from the cluster or the upstream, owners null where they are `name`; null on failure. */
async function lookUp(name: string, qtype: number, { store, forward, answerOptions }: WalkContext): Promise<Reply | null> {
  const answer = answerQuestion(store, name, qtype, answerOptions);
  if (answer.kind === "reply") return answer;
  if (forward === undefined) return null;
  if (answer.kind === "chase") {
    const sets = await resolveTarget(forward, answer.target, answer.qtype);
    return { ...answer.reply, answer: [...answer.reply.answer, ...sets] };
  }
  const upstream = await askUpstream(forward, name, qtype);
  if (upstream === null) return null;
  const sets = upstream.sets.map((set) => (set.owner === name ? { ...set, owner: null } : set));
  return { rcode: upstream.rcode, authoritative: false, answer: sets, authority: [], additional: [] };
}

/**
 * CoreDNS's form: a CNAME from the asked name to `name`, then the records found for `name` under
 * their own owner. A name that exists without records of the type (NODATA: an IPv4-only name
 * asked for AAAA) gets the CNAME too, with the NODATA's authority: CoreDNS answers NODATA for
 * the asked name instead, which a resolver asking for one family at a time (gethostbyname2)
 * takes as "try the next search domain", walking the list again that autopath just walked.
 */
function aliased(name: string, reply: Reply): Reply {
  const first = reply.answer[0] ?? reply.authority[0];
  const ttl = first?.records[0]?.ttl ?? 0;
  const cname: RRSet = { type: TYPE.CNAME, owner: null, records: [{ type: "CNAME", ttl, target: name }], additional: [] };
  const renamed = reply.answer.map((set) => (set.owner === null ? { ...set, owner: name } : set));
  const authority = reply.authority.map((set) => (set.owner === null ? { ...set, owner: name } : set));
  return { ...reply, answer: [cname, ...renamed], authority };
}

/** coredns_autopath_success_total: queries answered by a name further down the search list. */
export class AutopathMetrics {
  #successes = 0;

  readonly success = (): void => {
    this.#successes++;
  };

  exposition(server: string): string {
    const out: string[] = [];
    family(out, "coredns_autopath_success_total", "counter", "Counter of requests that did autopath.");
    out.push(`coredns_autopath_success_total{server="${server}"} ${this.#successes}`);
    return out.join("\n") + "\n";
  }
}
