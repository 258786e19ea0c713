// What the `cluster` options change in what the record store takes in: the namespaces it keeps
// (CoreDNS `namespaces`), whether it keeps EndpointSlices at all (`noendpoints`), and whether an
// endpoint without a hostname is named by its Pod (`endpoint_pod_names`) rather than its
// dashed address. The Pod name is read in the projection of each slice, so without the option
// the store keeps no Pod names, and the watch does not even decode them.
import { ALL_FIELDS, type DecodedFields, ENDPOINT_ADDRESS_FIELDS } from "../kube/protobuf-objects.ts";
import type { EndpointSlice } from "../model/types.ts";
import type { ClusterOptions } from "./config/cluster-options.ts";
import { dnsSlice, type DnsEndpointSlice } from "./dns-slice.ts";
import type { RecordStoreOptions } from "./record-store.ts";

export function storeScope(options: ClusterOptions): Pick<RecordStoreOptions, "namespaces" | "endpoints"> {
  return { namespaces: options.namespaces === null ? null : new Set(options.namespaces), endpoints: !options.noEndpoints };
}

/** A Pod name can be a DNS subdomain ("a.b"); only one that is a single label can name an endpoint. */
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** CoreDNS's endpoint_pod_names: the hostname if set, else the Pod's name, else (as without it) the address. */
export function withPodNames(slice: EndpointSlice): EndpointSlice {
  if (slice.endpoints.every((e) => e.hostname !== "" || !LABEL.test(e.podName))) return slice;
  return { ...slice, endpoints: slice.endpoints.map((e) => (e.hostname === "" && LABEL.test(e.podName) ? { ...e, hostname: e.podName } : e)) };
}

export function sliceProjection(options: ClusterOptions): (slice: EndpointSlice) => DnsEndpointSlice {
  return options.endpointPodNames ? (slice) => dnsSlice(withPodNames(slice)) : dnsSlice;
}

/** The fields of a slice the projection reads, which are all a protobuf watch need decode: the Pod reference only with endpoint_pod_names. */
export function sliceFields(options: ClusterOptions): DecodedFields {
  return options.endpointPodNames ? ALL_FIELDS : ENDPOINT_ADDRESS_FIELDS;
}
