// What signpost-dns keeps of an EndpointSlice: the fields a name or a PTR is built from. The
// watch converts every slice into the shared model first (and so checks it the same way as the
// proxy does); the DNS informer then keeps this projection instead, which at 100,000 endpoints
// is about 5 MiB less: an endpoint's node, zone, hints, Pod and serving condition are not read,
// and terminating is folded into ready.
import type { Endpoint, EndpointSlice } from "../model/types.ts";

/**
 * An endpoint as signpost-dns keeps it. Nearly every endpoint is published without
 * publishNotReadyAddresses, has one address and no hostname: it is kept as that address alone.
 * A heap snapshot at 100,000 endpoints showed each kept as a 48-byte object and a 56-byte address
 * array besides the address: about 10 MiB in all. Any other endpoint keeps its fields.
 */
export type DnsEndpoint = string | DnsEndpointFields;

export interface DnsEndpointFields extends Pick<Endpoint, "addresses" | "hostname"> {
  /**
   * Whether the endpoint is published without publishNotReadyAddresses: ready and not
   * terminating. The EndpointSlice controller never marks a terminating endpoint ready unless
   * its Service publishes not-ready addresses, but a slice written by another controller (or
   * by hand) can; such an endpoint is on its way out and gets no name. With
   * publishNotReadyAddresses every endpoint is published, whatever its conditions.
   */
  readonly ready: boolean;
}

export interface DnsEndpointSlice extends Pick<EndpointSlice, "namespace" | "name" | "serviceName" | "addressType" | "ports"> {
  readonly endpoints: readonly DnsEndpoint[];
  /** The slice's last-change-trigger-time in ms, where DNS programming latency starts; absent when it has none. */
  readonly triggerTimeMs?: number;
}

export function dnsSlice(slice: EndpointSlice, triggerTimeMs: number | null = null): DnsEndpointSlice {
  return Object.freeze({
    ...(triggerTimeMs === null ? {} : { triggerTimeMs }),
    namespace: slice.namespace,
    name: slice.name,
    serviceName: slice.serviceName,
    addressType: slice.addressType,
    ports: slice.ports,
    endpoints: Object.freeze(slice.endpoints.map(dnsEndpoint)),
  });
}

function dnsEndpoint(e: Endpoint): DnsEndpoint {
  const ready = e.ready && !e.terminating;
  const [only] = e.addresses;
  if (ready && e.hostname === "" && e.addresses.length === 1 && only !== undefined) return only;
  return Object.freeze({ addresses: e.addresses, ready, hostname: e.hostname });
}
