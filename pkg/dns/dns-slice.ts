// What signpost-dns keeps of an EndpointSlice: the fields a name or a PTR is built from. The
// watch converts every slice into the shared model first (and so checks it the same way as the
// proxy does); the DNS informer then keeps this projection instead, which at 100,000 endpoints
// is about 5 MiB less: an endpoint's node, zone, hints, Pod and serving conditions are not read.
import type { Endpoint, EndpointSlice } from "../model/types.ts";

export type DnsEndpoint = Pick<Endpoint, "addresses" | "ready" | "hostname">;

export interface DnsEndpointSlice extends Pick<EndpointSlice, "namespace" | "name" | "serviceName" | "addressType" | "ports"> {
  readonly endpoints: readonly DnsEndpoint[];
}

export function dnsSlice(slice: EndpointSlice): DnsEndpointSlice {
  return Object.freeze({
    namespace: slice.namespace,
    name: slice.name,
    serviceName: slice.serviceName,
    addressType: slice.addressType,
    ports: slice.ports,
    endpoints: Object.freeze(slice.endpoints.map((e) => Object.freeze({ addresses: e.addresses, ready: e.ready, hostname: e.hostname }))),
  });
}
