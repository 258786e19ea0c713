// Which ClusterIP ports this node delivers untracked to its own replica, decided from plain
// objects: the steered Service, and the EndpointSlices of the headless Service that selects the
// node-local replicas. A replica counts when its endpoint is on this node and ready (the
// EndpointSlice controller clears ready as soon as its pod is deleted, so a replica being
// replaced stops counting at once, while it still answers during its lameduck).
import type { EndpointSlice, IPFamily, Protocol, Service } from "../../model/types.ts";
import { isIPv6 } from "node:net";
import type { NodeLocalReplica } from "./node-local-option.ts";

export interface SteeredPort {
  readonly protocol: Extract<Protocol, "UDP" | "TCP">;
  readonly port: number;
}

/** One ClusterIP whose listed ports go to the replica on this node. */
export interface Steering {
  readonly service: string;
  readonly clusterIP: string;
  readonly ports: readonly SteeredPort[];
}

export interface SteeringInput {
  readonly replica: NodeLocalReplica;
  /** The steered Service; null while it does not exist. */
  readonly service: Service | null;
  /** The local Service's EndpointSlices. */
  readonly localSlices: readonly EndpointSlice[];
  readonly nodeName: string;
  readonly family: IPFamily;
}

function familyOf(ip: string): IPFamily {
  return isIPv6(ip) ? "IPv6" : "IPv4";
}

/** The replica on this node is ready: an endpoint of the local Service here with ready set. */
export function localReplicaReady(localSlices: readonly EndpointSlice[], nodeName: string): boolean {
  return localSlices.some((s) => s.endpoints.some((e) => e.nodeName === nodeName && e.ready && !e.terminating));
}

/**
 * The steering for one replica rule and one family, or null when nothing is steered: the
 * Service is missing or has no ClusterIP of this family, or no replica here is ready. Only the
 * Service's ports that the local Service also serves (same protocol and number) are steered, so
 * a metrics port on the same ClusterIP keeps going to the cluster-wide replicas.
 */
export function steeringFor(input: SteeringInput): Steering | null {
  const { service, replica } = input;
  if (service === null) return null;
  const clusterIP = service.clusterIPs.find((ip) => familyOf(ip) === input.family);
  if (clusterIP === undefined) return null;
  if (!localReplicaReady(input.localSlices, input.nodeName)) return null;
  const served = new Set(input.localSlices.filter((s) => s.addressType === input.family).flatMap((s) => s.ports.map((p) => `${p.protocol}/${p.port}`)));
  const ports: SteeredPort[] = [];
  for (const p of service.ports) {
    if ((p.protocol === "UDP" || p.protocol === "TCP") && served.has(`${p.protocol}/${p.port}`)) ports.push({ protocol: p.protocol, port: p.port });
  }
  if (ports.length === 0) return null;
  return { service: replica.service, clusterIP, ports };
}
