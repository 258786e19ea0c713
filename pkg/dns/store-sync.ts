// Feeds the record store from the watch layer: every add, update and delete of a Service,
// EndpointSlice, Namespace (and Pod, with `pods verified`) goes into the store as it arrives,
// and the store is marked synced (SERVFAIL ends) once every informer has delivered its first
// list. Until then the store only notes which Services changed; each is built once after that,
// over the next turns of the event loop with queries answered in between, or at once when a query
// reads it first. Offline mode hands the same store a file's objects instead.
import type { ClusterObjects } from "../kube/objects-file.ts";
import type { InformerEvent } from "../kube/object-store.ts";
import type { Pod } from "../model/pod.ts";
import type { EndpointSlice, Namespace, Service } from "../model/types.ts";
import { dnsSlice, type DnsEndpointSlice } from "./dns-slice.ts";
import type { RecordStore } from "./record-store.ts";

/** The part of an Informer this module uses, so tests can drive it without an API server. */
export interface EventSource<T> {
  onEvent(handler: (event: InformerEvent<T>) => void): void;
  synced(): Promise<void>;
}

export interface StoreSources {
  readonly services: EventSource<Service>;
  readonly endpointSlices: EventSource<DnsEndpointSlice>;
  readonly namespaces: EventSource<Namespace>;
  /** Only for `pods verified`; the other modes watch no Pods. */
  readonly pods?: EventSource<Pod>;
}

/**
 * Registers the store's handlers (before the informers start, so the first list is seen) and
 * resolves once all of them have synced and the store says so. `built` runs later, once the
 * first list is built and filed (see finishInTurns).
 */
export async function syncStore(store: RecordStore, sources: StoreSources, built: () => void = () => {}): Promise<void> {
  store.deferBuilds();
  sources.namespaces.onEvent((e) => {
    if (e.type === "delete") store.deleteNamespace(e.old.name);
    else store.upsertNamespace(e.object);
  });
  sources.services.onEvent((e) => {
    if (e.type === "delete") store.deleteService(e.old.namespace, e.old.name);
    else store.upsertService(e.object);
  });
  sources.endpointSlices.onEvent((e) => {
    if (e.type === "delete") store.deleteEndpointSlice(e.old.namespace, e.old.name);
    else store.upsertEndpointSlice(e.object);
  });
  sources.pods?.onEvent((e) => {
    if (e.type === "delete") store.deletePod(e.old.namespace, e.old.name);
    else store.upsertPod(e.object);
  });
  const all = [sources.namespaces, sources.services, sources.endpointSlices, ...(sources.pods === undefined ? [] : [sources.pods])];
  await Promise.all(all.map((source) => source.synced()));
  store.markSynced();
  finishInTurns(store, built);
}

/** About how long one turn of the event loop builds Services for, so queries wait no longer than that. */
const BUILD_MS_PER_TURN = 2;
/** Services built between two looks at the clock. */
const SERVICES_PER_LOOK = 16;
/** Addresses filed per event-loop turn: about 2 ms of work here, so queries wait no longer than that. */
const ADDRESSES_PER_TURN = 2000;

/**
 * Builds the first load's Services, then files its endpoint addresses, a slice per turn of the
 * event loop, queries answered in between; a query needing either gets it built at once. `built`
 * runs in the turn after the last.
 */
function finishInTurns(store: RecordStore, built: () => void): void {
  const build = (): void => {
    const until = performance.now() + BUILD_MS_PER_TURN;
    while (store.buildSome(SERVICES_PER_LOOK)) {
      if (performance.now() >= until) return void setImmediate(build);
    }
    setImmediate(file);
  };
  const file = (): void => {
    if (store.fileAddresses(ADDRESSES_PER_TURN)) setImmediate(file);
    else setImmediate(built);
  };
  setImmediate(build);
}

/** What offline mode loads into the store. */
export interface StoreObjects {
  readonly namespaces: readonly Namespace[];
  readonly services: readonly Service[];
  readonly endpointSlices: readonly DnsEndpointSlice[];
  /** Read by the store only with `pods verified`. */
  readonly pods?: readonly Pod[];
}

/** Loads a whole cluster's objects at once and marks the store synced: offline mode. `built` as syncStore's. */
export function loadStore(store: RecordStore, objects: StoreObjects, built: () => void = () => {}): void {
  store.deferBuilds();
  for (const namespace of objects.namespaces) store.upsertNamespace(namespace);
  for (const service of objects.services) store.upsertService(service);
  for (const slice of objects.endpointSlices) store.upsertEndpointSlice(slice);
  for (const pod of objects.pods ?? []) store.upsertPod(pod);
  store.markSynced();
  finishInTurns(store, built);
}

/** An --objects file's objects as the store takes them: slices reduced to what the DNS keeps. */
export function storeObjects(objects: ClusterObjects, project: (slice: EndpointSlice) => DnsEndpointSlice = dnsSlice): StoreObjects {
  return { namespaces: objects.namespaces, services: objects.services, endpointSlices: objects.slices.map(project), pods: objects.pods };
}
