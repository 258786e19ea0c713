// The informers the daemons run, one per kind they read, each converting into pkg/model once per
// event. Services and EndpointSlices, the kinds that grow with the cluster, are watched in
// protobuf, as kube-proxy and CoreDNS watch them: the API server encodes it several times
// faster than JSON and it is a fraction of the size; the rest in JSON. Either is handed to the
// converters as the client-node type it is shaped like (protobuf-objects.ts decodes into that
// shape); the converters read no Date field, the only place where the two differ.
import type { V1EndpointSlice, V1Namespace, V1Node, V1Pod, V1Service } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { convertEndpointSlice } from "../model/convert-endpointslice.ts";
import { convertNamespace } from "../model/convert-namespace.ts";
import { convertNode } from "../model/convert-node.ts";
import { convertPod } from "../model/convert-pod.ts";
import { convertService } from "../model/convert-service.ts";
import type { Pod } from "../model/pod.ts";
import type { EndpointSlice, Namespace, Node, Service } from "../model/types.ts";
import type { ApiClient, WatchEncoding } from "./api-client.ts";
import { Informer } from "./informer.ts";
import type { DecodedFields } from "./protobuf-objects.ts";
import type { InformerMetrics } from "./informer-metrics.ts";
import type { RawObject } from "./object-store.ts";
import { lastChangeTriggerTimeMs } from "./trigger-time.ts";

export interface InformerDeps {
  readonly client: ApiClient;
  readonly log: Logger;
  readonly metrics?: InformerMetrics;
}

function make<T>(deps: InformerDeps, name: string, path: string, convert: (raw: RawObject) => T, extra: { labelSelector?: string; fieldSelector?: string; encoding?: WatchEncoding; decoded?: DecodedFields } = {}): Informer<T> {
  return new Informer<T>({ name, path, convert, client: deps.client, log: deps.log, ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }), ...extra });
}

export function serviceInformer(deps: InformerDeps, labelSelector?: string): Informer<Service> {
  return make(deps, "services", "/api/v1/services", (raw) => convertService(raw as V1Service), { encoding: "protobuf", ...(labelSelector === undefined ? {} : { labelSelector }) });
}

/**
 * Slices converted and checked as the model has them, then reduced by `project` to what the
 * daemon keeps, with the slice's last-change-trigger-time (trigger-time.ts), which the model
 * drops. `decoded`: ENDPOINT_ADDRESS_FIELDS when `project` reads no endpoint's placement (the
 * model then has it unset), so the watch does not decode it.
 */
export function projectedEndpointSliceInformer<T>(deps: InformerDeps, project: (slice: EndpointSlice, triggerTimeMs: number | null) => T, selection: { labelSelector?: string; decoded?: DecodedFields } = {}): Informer<T> {
  const convert = (raw: RawObject) => project(convertEndpointSlice(raw as V1EndpointSlice), lastChangeTriggerTimeMs(raw));
  return make(deps, "endpointslices", "/apis/discovery.k8s.io/v1/endpointslices", convert, { encoding: "protobuf", ...selection });
}

export function nodeInformer(deps: InformerDeps, fieldSelector?: string): Informer<Node> {
  return make(deps, "nodes", "/api/v1/nodes", (raw) => convertNode(raw as V1Node), fieldSelector === undefined ? {} : { fieldSelector });
}

export function namespaceInformer(deps: InformerDeps): Informer<Namespace> {
  return make(deps, "namespaces", "/api/v1/namespaces", (raw) => convertNamespace(raw as V1Namespace));
}

/**
 * Pods that hold or may still get their IP: finished ones (Succeeded, Failed) are left out by
 * the API server, which sends a delete when a Pod finishes, as for CoreDNS's pod watch.
 */
export const livePodsSelector = "status.phase!=Succeeded,status.phase!=Failed";

/** For signpost-dns's `pods verified` only: every Pod of the cluster, reduced to its IPs. */
export function podInformer(deps: InformerDeps): Informer<Pod> {
  return make(deps, "pods", "/api/v1/pods", (raw) => convertPod(raw as V1Pod), { fieldSelector: livePodsSelector });
}
