// The Services and EndpointSlices the record store builds records from, as the watch delivers
// them: Services by key, and slices grouped by the Service they belong to, each slice following
// its service-name label when it changes. Every change names the Services to build again.
import { keyOf, objectKey, serviceKeyOf } from "../model/key.ts";
import type { ObjectKey, Service } from "../model/types.ts";
import type { DnsEndpointSlice } from "./dns-slice.ts";

export class ServiceObjects {
  readonly #services = new Map<ObjectKey, Service>();
  /** Slices by the key of the Service they belong to. */
  readonly #slicesByService = new Map<ObjectKey, DnsEndpointSlice[]>();
  /** Owner Service key of each slice key, to move a slice whose service-name label changed. */
  readonly #sliceOwner = new Map<ObjectKey, ObjectKey>();

  service(key: ObjectKey): Service | undefined {
    return this.#services.get(key);
  }

  slices(key: ObjectKey): readonly DnsEndpointSlice[] {
    return this.#slicesByService.get(key) ?? [];
  }

  /** Returns the Service to build again. */
  upsertService(service: Service): ObjectKey {
    const key = keyOf(service);
    this.#services.set(key, service);
    return key;
  }

  /** Returns the Service to build again; null when it was not known. */
  deleteService(namespace: string, name: string): ObjectKey | null {
    const key = objectKey(namespace, name);
    return this.#services.delete(key) ? key : null;
  }

  /** Returns the Services to build again: the one the slice left, if it moved, then its own. */
  upsertSlice(slice: DnsEndpointSlice): ObjectKey[] {
    const sliceKey = keyOf(slice);
    const owner = serviceKeyOf(slice);
    const previousOwner = this.#sliceOwner.get(sliceKey);
    const rebuild: ObjectKey[] = [];
    if (previousOwner !== undefined && previousOwner !== owner) rebuild.push(this.#detach(sliceKey, slice.name, previousOwner));
    if (owner !== null) {
      const slices = this.#slicesByService.get(owner) ?? [];
      this.#slicesByService.set(owner, slices);
      const at = slices.findIndex((s) => s.name === slice.name);
      if (at < 0) slices.push(slice);
      else slices[at] = slice;
      this.#sliceOwner.set(sliceKey, owner);
      rebuild.push(owner);
    }
    return rebuild;
  }

  /** Returns the Service to build again; null when the slice belonged to none. */
  deleteSlice(namespace: string, name: string): ObjectKey | null {
    const sliceKey = objectKey(namespace, name);
    const owner = this.#sliceOwner.get(sliceKey);
    return owner === undefined ? null : this.#detach(sliceKey, name, owner);
  }

  #detach(sliceKey: ObjectKey, sliceName: string, owner: ObjectKey): ObjectKey {
    const slices = this.#slicesByService.get(owner)?.filter((s) => s.name !== sliceName) ?? [];
    if (slices.length === 0) this.#slicesByService.delete(owner);
    else this.#slicesByService.set(owner, slices);
    this.#sliceOwner.delete(sliceKey);
    return owner;
  }
}
