// KUBE-SERVICES, split by destination prefix when it is long. netfilter walks a chain rule by
// rule, and every new connection through the node (to a Service or not: pod-to-pod traffic too)
// walks KUBE-SERVICES until a rule matches; with 30,000 Services kube-proxy's iptables mode
// makes each first packet test up to 30,000 rules. Past FLAT_LIMIT rules we put the rules of each
// destination prefix in a chain of its own (KUBE-DST-<hash>) and KUBE-SERVICES holds one jump per
// prefix, so a first packet tests about 2√n rules. Each rule matches one destination address,
// so rules of different prefixes never compete and the split chain matches exactly what the
// flat one did; rules for the same address keep their order.
// A partial sync writes only the KUBE-DST chains whose rules changed since the last restore, as
// it writes only the changed Services' chains: a change to one Service's endpoints leaves every
// chain of this split as it was, and a new Service changes the one chain of its prefix. At
// 1,000 Services that is some 1,000 rules fewer for every partial sync's iptables-restore to
// read, at 10,000 some 10,000.

import { bitsOf, formatCIDR, parseIP } from "../../model/ip.ts";
import type { IPFamily } from "../../model/types.ts";
import { destinationChainName, KUBE_SERVICES } from "./chain-names.ts";
import { comment, ruleSpec, type RuleArg, type TableBuffer } from "./restore-writer.ts";

/** Up to this many rules KUBE-SERVICES stays one flat chain, easiest to read. */
export const FLAT_LIMIT = 64;

/** One Service port's KUBE-SERVICES rules, each with the one destination address it matches. */
export class DestinationRules {
  readonly addresses: bigint[] = [];
  readonly specs: string[] = [];

  add(address: string, ...args: RuleArg[]): void {
    const ip = parseIP(address);
    // The model hands the renderer canonical addresses only (service-ports.ts).
    if (ip === null) throw new Error(`a KUBE-SERVICES rule for "${address}", which is not an IP address`);
    this.addresses.push(ip.value);
    this.specs.push(ruleSpec(args));
  }
}

function ascending(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Bits of x, an unsigned integer, up to its highest set bit. */
function bitLength(x: bigint): number {
  let n = 0;
  while (x > 0xffffffffn) {
    x >>= 32n;
    n += 32;
  }
  return n + 32 - Math.clz32(Number(x));
}

/**
 * The longest prefix length at which the addresses fall into at most √u prefixes (u: distinct
 * addresses), so that the jumps and the rules behind one jump are both about √u. Sorted, two
 * neighbours share a prefix of length L exactly when their common leading bits are at least L,
 * so the prefixes at L number one more than the neighbour pairs that differ within L bits.
 */
export function dispatchPrefixLength(addresses: readonly bigint[], family: IPFamily): number {
  const bits = bitsOf(family);
  const sorted = [...new Set(addresses)].sort(ascending);
  const target = Math.ceil(Math.sqrt(sorted.length));
  // splits[c]: neighbour pairs whose common leading bits number exactly c.
  const splits = new Array<number>(bits).fill(0);
  for (let i = 1; i < sorted.length; i++) {
    const a = sorted[i - 1] ?? 0n;
    const b = sorted[i] ?? 0n;
    const c = bits - bitLength(a ^ b);
    splits[c] = (splits[c] ?? 0) + 1;
  }
  let prefixes = 1;
  let best = 0;
  for (let length = 1; length <= bits; length++) {
    prefixes += splits[length - 1] ?? 0;
    if (prefixes > target) break;
    best = length;
  }
  return best;
}

/** KUBE-DST chains by name, each with its rule specs in order. */
export type DispatchChains = ReadonlyMap<string, readonly string[]>;

export interface ServicesChain {
  /** Every KUBE-DST chain of the split, written or not: pass it as `inKernel` next time. */
  readonly dispatchChains: DispatchChains;
  /** Rules of the KUBE-DST chains left out, as the kernel already holds them. */
  readonly unwrittenRules: number;
}

/** Whether two chains hold the same rules in the same order. */
function sameRules(a: readonly string[] | undefined, b: readonly string[]): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Writes the KUBE-SERVICES rules of all ports, in their order: flat up to FLAT_LIMIT, else one
 * KUBE-DST chain per destination prefix (added to activeChains, so a later sync that no longer
 * uses one deletes it) and a jump to each, in address order. KUBE-SERVICES is written whole; a
 * KUBE-DST chain is left out when `inKernel` (the chains the kernel holds, for a partial sync)
 * has it with the same rules.
 */
export function writeServicesChain(nat: TableBuffer, ports: readonly DestinationRules[], family: IPFamily, activeChains: Set<string>, inKernel?: DispatchChains): ServicesChain {
  const dispatchChains = new Map<string, readonly string[]>();
  let unwrittenRules = 0;
  let total = 0;
  for (const p of ports) total += p.specs.length;
  const byPrefix = new Map<bigint, string[]>();
  const length = total > FLAT_LIMIT ? dispatchPrefixLength(ports.flatMap((p) => p.addresses), family) : 0;
  const hostBits = BigInt(bitsOf(family) - length);
  if (length > 0) {
    for (const p of ports) {
      p.addresses.forEach((address, i) => {
        const network = (address >> hostBits) << hostBits;
        let specs = byPrefix.get(network);
        if (specs === undefined) {
          specs = [];
          byPrefix.set(network, specs);
        }
        specs.push(p.specs[i] ?? "");
      });
    }
  }
  // One prefix (every rule for one address, say) would only add a jump.
  if (byPrefix.size <= 1) {
    for (const p of ports) for (const spec of p.specs) nat.appendSpec(KUBE_SERVICES, spec);
    return { dispatchChains, unwrittenRules };
  }
  const networks = [...byPrefix.keys()].sort(ascending);
  for (const network of networks) {
    const cidr = formatCIDR({ family, network, prefix: length });
    const chain = destinationChainName(cidr);
    const specs = byPrefix.get(network) ?? [];
    activeChains.add(chain);
    dispatchChains.set(chain, specs);
    nat.append(KUBE_SERVICES, comment(`Services in ${cidr}`), `-d ${cidr}`, `-j ${chain}`);
    if (sameRules(inKernel?.get(chain), specs)) {
      unwrittenRules += specs.length;
      continue;
    }
    nat.declareChain(chain);
    for (const spec of specs) nat.appendSpec(chain, spec);
  }
  return { dispatchChains, unwrittenRules };
}
