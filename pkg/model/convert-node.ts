// Converts a v1 Node into model.Node: its addresses, pod CIDRs, labels and zone, which the proxy
// needs for NodePort addresses, local-traffic detection and topology-aware routing, and whether
// it is being deleted or tainted for deletion, which its /healthz reports.
import type { V1Node, V1NodeAddress, V1Taint } from "@kubernetes/client-node";
import { emptyList, frozenList } from "./frozen.ts";
import { type Interner, sharedInterner } from "./intern.ts";
import { ipFamilyOf, isCIDR } from "./ip.ts";
import { shown } from "./port.ts";
import { clusterIdentity, invalidObject } from "./subject.ts";
import type { Node, NodeAddress, NodeAddressType, NodeTaint } from "./types.ts";

export const zoneLabel = "topology.kubernetes.io/zone";

/** Whether an address of this type must be an IP; the others are host names. */
const addressTypes: ReadonlyMap<string, { type: NodeAddressType; ip: boolean }> = new Map([
  ["InternalIP", { type: "InternalIP", ip: true }],
  ["ExternalIP", { type: "ExternalIP", ip: true }],
  ["Hostname", { type: "Hostname", ip: false }],
  ["InternalDNS", { type: "InternalDNS", ip: false }],
  ["ExternalDNS", { type: "ExternalDNS", ip: false }],
]);

const emptyLabels: Readonly<Record<string, string>> = Object.freeze({});

export function convertNode(node: V1Node, interner: Interner = sharedInterner): Node {
  const { name, subject } = clusterIdentity("Node", node.metadata);
  const given = node.metadata?.labels;
  const labels = given === undefined || given === null ? emptyLabels : Object.freeze({ ...given });
  return Object.freeze({
    name: interner.intern(name),
    addresses: readAddresses(node.status?.addresses ?? [], subject),
    labels,
    podCIDRs: readPodCIDRs(node, subject),
    zone: interner.intern(labels[zoneLabel] ?? ""),
    deleting: node.metadata?.deletionTimestamp !== undefined && node.metadata.deletionTimestamp !== null,
    taints: readTaints(node.spec?.taints ?? [], subject),
  });
}

function readTaints(given: V1Taint[], subject: string): readonly NodeTaint[] {
  return frozenList(
    given.map((t, i) => {
      if (typeof t.key !== "string" || t.key === "") throw invalidObject(subject, `spec.taints[${i}].key`, "is missing or empty");
      return Object.freeze({ key: t.key, value: t.value ?? "", effect: t.effect });
    }),
  );
}

/** Address types this version does not know are dropped, not refused: newer API servers may add some. */
function readAddresses(given: V1NodeAddress[], subject: string): readonly NodeAddress[] {
  const addresses: NodeAddress[] = [];
  given.forEach((entry, i) => {
    const known = addressTypes.get(entry.type);
    if (known === undefined) return;
    const address = entry.address ?? "";
    if (typeof address !== "string" || address === "") {
      throw invalidObject(subject, `status.addresses[${i}].address`, `is empty for type ${known.type}`);
    }
    if (known.ip && ipFamilyOf(address) === null) {
      throw invalidObject(subject, `status.addresses[${i}].address`, `${shown(address)} is not an IP address, but its type is ${known.type}`);
    }
    addresses.push(Object.freeze({ type: known.type, address }));
  });
  return frozenList(addresses);
}

/** spec.podCIDRs, falling back to [spec.podCIDR] as written by API servers before dual-stack. */
function readPodCIDRs(node: V1Node, subject: string): readonly string[] {
  const list = node.spec?.podCIDRs ?? [];
  const fromList = list.length > 0;
  const single = node.spec?.podCIDR ?? "";
  const given = fromList ? list : single === "" ? [] : [single];
  if (given.length === 0) return emptyList;
  return frozenList(
    given.map((cidr, i) => {
      if (!isCIDR(cidr)) {
        throw invalidObject(subject, fromList ? `spec.podCIDRs[${i}]` : "spec.podCIDR", `${shown(cidr)} is not a CIDR`);
      }
      return cidr;
    }),
  );
}
