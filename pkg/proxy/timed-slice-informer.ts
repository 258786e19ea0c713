// The proxy's EndpointSlice informer. It converts like pkg/kube's, and also keeps the slice's
// endpoints.kubernetes.io/last-change-trigger-time annotation (set by the EndpointSlice
// controller to when the Pod or Service change that caused it happened), which is where
// kube-proxy's network programming latency starts. pkg/model drops annotations.
import type { V1EndpointSlice } from "@kubernetes/client-node";
import { convertEndpointSlice } from "../model/convert-endpointslice.ts";
import type { EndpointSlice } from "../model/types.ts";
import type { InformerDeps } from "../kube/cluster-informers.ts";
import { Informer } from "../kube/informer.ts";
import { lastChangeTriggerTimeMs } from "../kube/trigger-time.ts";

export interface TimedSlice {
  readonly slice: EndpointSlice;
  /** Milliseconds since the epoch; null when the annotation is absent or malformed. */
  readonly triggerTimeMs: number | null;
}

export function convertTimedSlice(raw: V1EndpointSlice): TimedSlice {
  return { slice: convertEndpointSlice(raw), triggerTimeMs: lastChangeTriggerTimeMs(raw) };
}

export function timedSliceInformer(deps: InformerDeps, labelSelector: string): Informer<TimedSlice> {
  return new Informer<TimedSlice>({
    name: "endpointslices",
    path: "/apis/discovery.k8s.io/v1/endpointslices",
    convert: (raw) => convertTimedSlice(raw as V1EndpointSlice),
    client: deps.client,
    log: deps.log,
    labelSelector,
    ...(deps.metrics === undefined ? {} : { metrics: deps.metrics }),
  });
}
