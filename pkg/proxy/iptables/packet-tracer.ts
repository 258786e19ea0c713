// Walks one new connection through a rule set the way netfilter would: nat PREROUTING (or OUTPUT
// for the node's own traffic), routing on the possibly DNATed destination, filter INPUT/FORWARD/
// OUTPUT, and nat POSTROUTING. A random pick forks the walk, so the result lists every endpoint
// the connection may reach with its probability, and whether it is masqueraded, rejected or
// dropped. It answers "where does this connection go, and why", for tests and for operators.

import type { Protocol } from "../../model/types.ts";
import { cidrContains, splitHostPort } from "../../model/ip.ts";
import { IptablesState } from "./iptables-state.ts";
import type { Match, Rule, TableName } from "./restore-parser.ts";
import { builtinJumps, localnetGuardJumps } from "./render-static.ts";

export type Verdict = "DNAT" | "ACCEPT" | "DROP" | "REJECT" | "NO_MATCH";

export interface TracePacket {
  readonly src: string;
  readonly dst: string;
  readonly dport: number;
  readonly protocol: Protocol;
  /** Whether an address belongs to this node (addrtype LOCAL, routing to INPUT). */
  readonly isLocalAddress: (ip: string) => boolean;
  /** "local": sent by the node itself (nat OUTPUT). Default: local when src is a local address. */
  readonly origin?: "local" | "remote";
  /** The interface a remote packet arrives on (`-i`); a local one arrives on none. */
  readonly inInterface?: string;
  /** xt_recent lists: list name -> source addresses seen recently (ClientIP affinity). */
  readonly recent?: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface TracePath {
  readonly verdict: Verdict;
  /** The DNAT destination "ip:port", null when the packet was not DNATed. */
  readonly destination: string | null;
  readonly masqueraded: boolean;
  /** Chains entered, in order, as "table/CHAIN". */
  readonly chains: readonly string[];
  /** Probability of this path among all paths (random picks multiply). */
  readonly probability: number;
  /** xt_recent lists this connection adds its source to. */
  readonly recentSet: readonly string[];
  /** The rule that decided a DROP or REJECT, as "table/CHAIN spec". */
  readonly decidedBy: string | null;
}

export interface TraceResult {
  /** The verdict of every path when they agree; otherwise the first of DNAT, ACCEPT, REJECT, DROP. */
  readonly verdict: Verdict;
  /** Distinct DNAT destinations, sorted. */
  readonly endpoints: readonly string[];
  /** Whether any path is masqueraded. */
  readonly masqueraded: boolean;
  /** Union of the chains passed, in first-seen order. */
  readonly chains: readonly string[];
  readonly paths: readonly TracePath[];
}

interface Pkt {
  readonly src: string;
  readonly dst: string;
  readonly dport: number;
  readonly mark: number;
  readonly destination: string | null;
  readonly masqueraded: boolean;
  readonly chains: readonly string[];
  readonly probability: number;
  readonly recentSet: readonly string[];
  readonly acceptedByRule: boolean;
  readonly decidedBy: string | null;
}

type Flow =
  | { readonly pkt: Pkt; readonly end: "fallthrough" }
  | { readonly pkt: Pkt; readonly end: "terminal"; readonly verdict: "ACCEPT" | "DROP" | "REJECT" | "DNAT" | "MASQUERADE" };

const MAX_DEPTH = 64;

class Walker {
  readonly #state: IptablesState;
  readonly #packet: TracePacket;
  readonly #protocol: string;

  constructor(state: IptablesState, packet: TracePacket) {
    this.#state = state;
    this.#packet = packet;
    this.#protocol = packet.protocol.toLowerCase();
  }

  /** Runs a built-in chain, its policy deciding what falls off the end. */
  builtin(table: TableName, chain: string, pkt: Pkt): Flow[] {
    return this.#run(table, chain, 0, enter(pkt, table, chain), 0).map((f) => {
      if (f.end === "terminal") return f;
      const policy = this.#state.policy(table, chain);
      return { pkt: f.pkt, end: "terminal", verdict: policy === "DROP" ? "DROP" : "ACCEPT" };
    });
  }

  #run(table: TableName, chain: string, start: number, pkt: Pkt, depth: number): Flow[] {
    if (depth > MAX_DEPTH) throw new Error(`packet tracer: jumps nested deeper than ${MAX_DEPTH} at ${table}/${chain}`);
    const rules = this.#state.rules(table, chain);
    let current = pkt;
    for (let i = start; i < rules.length; i++) {
      const rule = rules[i];
      if (rule === undefined) break;
      const branches = this.#evaluate(rule, current);
      const only = branches[0];
      if (branches.length === 1 && only !== undefined && !only.matched) {
        current = only.pkt;
        continue;
      }
      const flows: Flow[] = [];
      for (const b of branches) {
        if (b.matched) flows.push(...this.#apply(table, chain, i, rule, b.pkt, depth));
        else flows.push(...this.#run(table, chain, i + 1, b.pkt, depth));
      }
      return flows;
    }
    return [{ pkt: current, end: "fallthrough" }];
  }

  #apply(table: TableName, chain: string, index: number, rule: Rule, pkt: Pkt, depth: number): Flow[] {
    const t = rule.target;
    const decided = `${table}/${chain} ${rule.spec}`;
    if (t === null) return this.#run(table, chain, index + 1, pkt, depth);
    switch (t.kind) {
      case "verdict":
        if (t.verdict === "RETURN") return [{ pkt, end: "fallthrough" }];
        if (t.verdict === "ACCEPT") return [{ pkt: { ...pkt, acceptedByRule: true }, end: "terminal", verdict: "ACCEPT" }];
        return [{ pkt: { ...pkt, decidedBy: decided }, end: "terminal", verdict: t.verdict }];
      case "dnat": {
        const { ip, port } = splitHostPort(t.to);
        const dport = port ?? pkt.dport;
        return [{ pkt: { ...pkt, dst: ip, dport, destination: t.to }, end: "terminal", verdict: "DNAT" }];
      }
      case "masquerade":
        return [{ pkt: { ...pkt, masqueraded: true }, end: "terminal", verdict: "MASQUERADE" }];
      case "mark": {
        const mark = t.op === "or" ? pkt.mark | t.value : t.op === "xor" ? pkt.mark ^ t.value : (pkt.mark & ~t.mask) ^ t.value;
        return this.#run(table, chain, index + 1, { ...pkt, mark: mark >>> 0 }, depth);
      }
      case "jump":
      case "goto": {
        const sub = this.#run(table, t.chain, 0, enter(pkt, table, t.chain), depth + 1);
        const flows: Flow[] = [];
        for (const f of sub) {
          if (f.end === "terminal") flows.push(f);
          else if (t.kind === "goto") flows.push(f);
          else flows.push(...this.#run(table, chain, index + 1, f.pkt, depth));
        }
        return flows;
      }
    }
  }

  /** The branches a rule's matches split a packet into; a random pick yields two. */
  #evaluate(rule: Rule, pkt: Pkt): { pkt: Pkt; matched: boolean }[] {
    let live: Pkt[] = [pkt];
    const misses: Pkt[] = [];
    for (const m of rule.matches) {
      const next: Pkt[] = [];
      for (const p of live) {
        if (m.kind === "statistic") {
          if (m.probability >= 1) next.push(p);
          else if (m.probability <= 0) misses.push(p);
          else {
            next.push({ ...p, probability: p.probability * m.probability });
            misses.push({ ...p, probability: p.probability * (1 - m.probability) });
          }
        } else if (m.kind === "recent" && m.mode === "set") {
          next.push({ ...p, recentSet: [...p.recentSet, m.name] });
        } else if (this.#test(m, p)) {
          next.push(p);
        } else {
          misses.push(p);
        }
      }
      live = next;
    }
    return [...live.map((p) => ({ pkt: p, matched: true })), ...misses.map((p) => ({ pkt: p, matched: false }))];
  }

  #test(m: Match, p: Pkt): boolean {
    const isLocal = this.#packet.isLocalAddress;
    switch (m.kind) {
      case "source":
        return cidrContains(m.cidr, p.src) !== m.negate;
      case "destination":
        return cidrContains(m.cidr, p.dst) !== m.negate;
      case "inInterface": {
        const arrived = this.#packet.origin === "local" ? undefined : this.#packet.inInterface;
        const named = arrived !== undefined && (m.name.endsWith("+") ? arrived.startsWith(m.name.slice(0, -1)) : arrived === m.name);
        return named !== m.negate;
      }
      case "protocol":
        return (m.protocol === this.#protocol) !== m.negate;
      case "dport":
        return (p.dport === m.port) !== m.negate;
      case "addrtype":
        if (m.type !== "LOCAL") throw new Error(`packet tracer: unsupported addrtype ${m.type}`);
        return isLocal(m.which === "src" ? p.src : p.dst) !== m.negate;
      case "comment":
        return true;
      case "mark":
        return ((p.mark & m.mask) >>> 0 === m.value) !== m.negate;
      case "conntrack": {
        // A new connection: NEW holds, and DNAT once the nat table rewrote the destination.
        const holds = m.states.some((s) => s === "NEW" || (s === "DNAT" && p.destination !== null));
        return holds !== m.negate;
      }
      case "recent":
        return this.#packet.recent?.get(m.name)?.has(p.src) ?? false;
      case "statistic":
        return true;
    }
  }
}

function enter(pkt: Pkt, table: TableName, chain: string): Pkt {
  return { ...pkt, chains: [...pkt.chains, `${table}/${chain}`] };
}

interface Stage {
  readonly table: TableName;
  readonly chain: string;
}

function finish(pkt: Pkt, verdict: Verdict): TracePath {
  return {
    verdict,
    destination: pkt.destination,
    masqueraded: pkt.masqueraded,
    chains: pkt.chains,
    probability: pkt.probability,
    recentSet: pkt.recentSet,
    decidedBy: pkt.decidedBy,
  };
}

/** Walks one new connection through the rules held by state. */
export function tracePacket(state: IptablesState, packet: TracePacket): TraceResult {
  const walker = new Walker(state, packet);
  const origin = packet.origin ?? (packet.isLocalAddress(packet.src) ? "local" : "remote");
  const start: Pkt = {
    src: packet.src,
    dst: packet.dst,
    dport: packet.dport,
    mark: 0,
    destination: null,
    masqueraded: false,
    chains: [],
    probability: 1,
    recentSet: [],
    acceptedByRule: false,
    decidedBy: null,
  };
  const paths: TracePath[] = [];
  const first: Stage = origin === "local" ? { table: "nat", chain: "OUTPUT" } : { table: "nat", chain: "PREROUTING" };
  for (const f of walker.builtin(first.table, first.chain, start)) {
    if (f.end === "terminal" && (f.verdict === "DROP" || f.verdict === "REJECT")) {
      paths.push(finish(f.pkt, f.verdict));
      continue;
    }
    // Routing decides on the destination the nat table left.
    const toLocal = packet.isLocalAddress(f.pkt.dst);
    const rest: Stage[] =
      origin === "local"
        ? [{ table: "filter", chain: "OUTPUT" }, { table: "nat", chain: "POSTROUTING" }, ...(toLocal ? [{ table: "filter" as const, chain: "INPUT" }] : [])]
        : toLocal
          ? [{ table: "filter", chain: "INPUT" }]
          : [{ table: "filter", chain: "FORWARD" }, { table: "nat", chain: "POSTROUTING" }];
    paths.push(...runStages(walker, rest, f.pkt));
  }
  return summarise(paths);
}

function runStages(walker: Walker, stages: readonly Stage[], pkt: Pkt): TracePath[] {
  const [stage, ...rest] = stages;
  if (stage === undefined) {
    const verdict: Verdict = pkt.destination !== null ? "DNAT" : pkt.acceptedByRule ? "ACCEPT" : "NO_MATCH";
    return [finish(pkt, verdict)];
  }
  const out: TracePath[] = [];
  for (const f of walker.builtin(stage.table, stage.chain, pkt)) {
    if (f.end === "terminal" && (f.verdict === "DROP" || f.verdict === "REJECT")) out.push(finish(f.pkt, f.verdict));
    else out.push(...runStages(walker, rest, f.pkt));
  }
  return out;
}

const precedence: readonly Verdict[] = ["DNAT", "ACCEPT", "REJECT", "DROP", "NO_MATCH"];

function summarise(paths: readonly TracePath[]): TraceResult {
  const verdicts = new Set(paths.map((p) => p.verdict));
  const verdict = precedence.find((v) => verdicts.has(v)) ?? "NO_MATCH";
  const endpoints = [...new Set(paths.flatMap((p) => (p.destination === null ? [] : [p.destination])))].sort();
  const chains: string[] = [];
  for (const p of paths) for (const c of p.chains) if (!chains.includes(c)) chains.push(c);
  return { verdict, endpoints, masqueraded: paths.some((p) => p.masqueraded), chains, paths };
}

/**
 * Loads restore text into a fresh rule set, adding the jumps from the built-in chains when the
 * text does not carry them (the daemon installs those separately).
 */
export function loadRules(text: string): IptablesState {
  const state = new IptablesState();
  state.restore(text, { noflush: false });
  const missing = [...localnetGuardJumps, ...builtinJumps].filter(
    (j) => state.hasChain(j.table, j.target) && state.rules(j.table, j.chain).length === 0,
  );
  if (missing.length > 0) {
    const tables = [...new Set(missing.map((j) => j.table))];
    const lines = tables.flatMap((t) => [`*${t}`, ...missing.filter((j) => j.table === t).map((j) => `-A ${j.chain} ${j.rule}`), "COMMIT"]);
    state.restore(lines.join("\n"));
  }
  return state;
}

/** Loads restore text (see loadRules) and traces one packet through it. */
export function traceRestore(text: string, packet: TracePacket): TraceResult {
  return tracePacket(loadRules(text), packet);
}
