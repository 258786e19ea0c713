// Converts a discovery.k8s.io/v1 EndpointSlice into model.EndpointSlice. This is the hot path at
// scale (100,000 endpoints), so an endpoint keeps only what the daemons read, and node names,
// zones and hint names go through the interner to be shared across endpoints.
import type { DiscoveryV1EndpointPort, V1Endpoint, V1EndpointHints, V1EndpointSlice } from "@kubernetes/client-node";
import { isIPv4, isIPv6 } from "node:net";
import { emptyList, frozenList } from "./frozen.ts";
import { type Interner, sharedInterner } from "./intern.ts";
import { isPortNumber, protocolOf, shown } from "./port.ts";
import { invalidObject, namespacedIdentity } from "./subject.ts";
import type { AddressType, Endpoint, EndpointHints, EndpointPort, EndpointSlice } from "./types.ts";

export const serviceNameLabel = "kubernetes.io/service-name";

const addressTypes: ReadonlyMap<string, AddressType> = new Map([
  ["IPv4", "IPv4"],
  ["IPv6", "IPv6"],
  ["FQDN", "FQDN"],
]);

const addressChecks: Readonly<Record<AddressType, (address: string) => boolean>> = {
  IPv4: (address) => isIPv4(address),
  IPv6: (address) => isIPv6(address) && !address.includes("%"),
  FQDN: (address) => typeof address === "string" && address !== "",
};

export function convertEndpointSlice(slice: V1EndpointSlice, interner: Interner = sharedInterner): EndpointSlice {
  const { namespace, name, subject } = namespacedIdentity("EndpointSlice", slice.metadata);
  const addressType = addressTypes.get(slice.addressType);
  if (addressType === undefined) {
    throw invalidObject(subject, "addressType", `${shown(slice.addressType)} is not one of IPv4, IPv6, FQDN`);
  }
  const ports: EndpointPort[] = [];
  (slice.ports ?? []).forEach((port, i) => {
    const converted = convertPort(port, i, subject, interner);
    if (converted !== null) ports.push(converted);
  });
  const endpoints = (slice.endpoints ?? []).map((endpoint, i) =>
    convertEndpoint(endpoint, i, addressType, subject, interner),
  );
  return Object.freeze({
    namespace: interner.intern(namespace),
    name,
    serviceName: slice.metadata?.labels?.[serviceNameLabel] ?? "",
    addressType,
    ports: frozenList(ports),
    endpoints: frozenList(endpoints),
  });
}

/**
 * null for a port without a number: the API allows it to mean "all ports", which neither daemon
 * can serve, and kube-proxy skips such ports too.
 */
function convertPort(port: DiscoveryV1EndpointPort, i: number, subject: string, interner: Interner): EndpointPort | null {
  if (port.port === undefined || port.port === null) return null;
  if (!isPortNumber(port.port)) throw invalidObject(subject, `ports[${i}].port`, `${shown(port.port)} is outside 1..65535`);
  const protocol = protocolOf(port.protocol);
  if (protocol === null) {
    throw invalidObject(subject, `ports[${i}].protocol`, `${shown(port.protocol)} is not one of TCP, UDP, SCTP`);
  }
  return Object.freeze({ name: interner.intern(port.name ?? ""), protocol, port: port.port });
}

function convertEndpoint(
  endpoint: V1Endpoint,
  i: number,
  addressType: AddressType,
  subject: string,
  interner: Interner,
): Endpoint {
  const given = endpoint.addresses ?? [];
  if (given.length === 0) throw invalidObject(subject, `endpoints[${i}].addresses`, "is empty");
  const addresses = new Array<string>(given.length);
  const fits = addressChecks[addressType];
  for (let j = 0; j < given.length; j++) {
    const address = given[j] ?? "";
    if (!fits(address)) {
      throw invalidObject(
        subject,
        `endpoints[${i}].addresses[${j}]`,
        `${shown(address)} is not a valid address for addressType ${addressType}`,
      );
    }
    addresses[j] = address;
  }
  // The API documents unset conditions: ready counts as true, serving follows ready.
  const ready = endpoint.conditions?.ready ?? true;
  const target = endpoint.targetRef;
  return Object.freeze({
    addresses: Object.freeze(addresses),
    ready,
    serving: endpoint.conditions?.serving ?? ready,
    terminating: endpoint.conditions?.terminating ?? false,
    hostname: endpoint.hostname ?? "",
    nodeName: interner.intern(endpoint.nodeName ?? ""),
    zone: interner.intern(endpoint.zone ?? ""),
    hints: convertHints(endpoint.hints, interner),
    podName: target?.kind === "Pod" ? (target.name ?? "") : "",
  });
}

/** null when there are no hints at all, so consumers test one thing and empty hints cost nothing. */
function convertHints(hints: V1EndpointHints | undefined, interner: Interner): EndpointHints | null {
  const forZones = hints?.forZones ?? [];
  const forNodes = hints?.forNodes ?? [];
  if (forZones.length === 0 && forNodes.length === 0) return null;
  return Object.freeze({
    forZones: forZones.length === 0 ? emptyList : Object.freeze(forZones.map((zone) => interner.intern(zone.name ?? ""))),
    forNodes: forNodes.length === 0 ? emptyList : Object.freeze(forNodes.map((node) => interner.intern(node.name ?? ""))),
  });
}
