// Node ports claimed by more than one Service. The API server allocates each node port once, but
// a race or an edit in etcd can give two Services the same one; the kernel would then send the
// port to whichever rule comes first. Decided here instead, deterministically: the oldest Service
// (by creation time, then namespace/name) keeps the port, the others lose it and are logged.
import { keyOf } from "../model/key.ts";
import type { ObjectKey, Protocol, Service } from "../model/types.ts";

/** "TCP/30080": a node port is claimed per protocol. */
export type NodePortClaim = `${Protocol}/${number}`;

export function nodePortClaim(protocol: Protocol, nodePort: number): NodePortClaim {
  return `${protocol}/${nodePort}`;
}

/** Service key -> the node ports it claims but another Service keeps; only Services that lose one appear. */
export type LostNodePorts = ReadonlyMap<ObjectKey, ReadonlySet<NodePortClaim>>;

function older(a: Service, b: Service): boolean {
  if (a.createdAtMs !== b.createdAtMs) return a.createdAtMs < b.createdAtMs;
  const ka = keyOf(a);
  const kb = keyOf(b);
  return ka < kb;
}

export function lostNodePorts(services: Iterable<Service>): Map<ObjectKey, Set<NodePortClaim>> {
  const owners = new Map<NodePortClaim, Service>();
  const claimants = new Map<NodePortClaim, Service[]>();
  for (const svc of services) {
    for (const p of svc.ports) {
      if (p.nodePort === 0) continue;
      const claim = nodePortClaim(p.protocol, p.nodePort);
      const owner = owners.get(claim);
      if (owner === svc) continue;
      const list = claimants.get(claim);
      if (list === undefined) claimants.set(claim, [svc]);
      else list.push(svc);
      if (owner === undefined || older(svc, owner)) owners.set(claim, svc);
    }
  }
  const out = new Map<ObjectKey, Set<NodePortClaim>>();
  for (const [claim, list] of claimants) {
    if (list.length < 2) continue;
    for (const svc of list) {
      if (owners.get(claim) === svc) continue;
      const key = keyOf(svc);
      out.set(key, (out.get(key) ?? new Set()).add(claim));
    }
  }
  return out;
}

/** The Service keeping a claim, as "namespace/name", for the log line of those that lose it. */
export function nodePortOwner(services: Iterable<Service>, claim: NodePortClaim): ObjectKey | null {
  let owner: Service | null = null;
  for (const svc of services) {
    if (!svc.ports.some((p) => p.nodePort !== 0 && nodePortClaim(p.protocol, p.nodePort) === claim)) continue;
    if (owner === null || older(svc, owner)) owner = svc;
  }
  return owner === null ? null : keyOf(owner);
}

/** Keys whose lost node ports differ between two results: their rules must be written again. */
export function lostNodePortsChanged(before: LostNodePorts, after: LostNodePorts): ObjectKey[] {
  const keys = new Set([...before.keys(), ...after.keys()]);
  const same = (a: ReadonlySet<string> | undefined, b: ReadonlySet<string> | undefined): boolean =>
    (a?.size ?? 0) === (b?.size ?? 0) && [...(a ?? [])].every((c) => b?.has(c) === true);
  return [...keys].filter((k) => !same(before.get(k), after.get(k))).sort();
}
