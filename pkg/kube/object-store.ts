// The informer's cache: converted objects by key, each with the resourceVersion it came from.
// It turns what the API server says (an object seen, an object deleted, a whole new list) into
// add, update and delete events, emitting nothing for a version it already holds, so that a
// resumed watch or a relist never duplicates an event.

export type InformerEvent<T> =
  | { readonly type: "add"; readonly key: string; readonly object: T }
  | { readonly type: "update"; readonly key: string; readonly old: T; readonly object: T }
  | { readonly type: "delete"; readonly key: string; readonly old: T };

export interface RawObject {
  readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly resourceVersion?: string };
}

interface Entry<T> {
  readonly resourceVersion: string;
  readonly object: T;
}

export interface ObjectStoreOptions<T> {
  /** Turns an API object into what the store keeps; throws on a malformed object. */
  readonly convert: (raw: RawObject) => T;
  /** Told about each object that failed conversion; the store keeps the last good version. */
  readonly onInvalid: (key: string, error: unknown) => void;
}

/** namespace/name for namespaced objects, name for cluster-scoped ones; "" if there is no name. */
export function rawKey(raw: RawObject): string {
  const name = raw.metadata?.name ?? "";
  if (name === "") return "";
  const ns = raw.metadata?.namespace ?? "";
  return ns === "" ? name : `${ns}/${name}`;
}

export class ObjectStore<T> {
  readonly #entries = new Map<string, Entry<T>>();
  readonly #options: ObjectStoreOptions<T>;

  constructor(options: ObjectStoreOptions<T>) {
    this.#options = options;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): T | undefined {
    return this.#entries.get(key)?.object;
  }

  keys(): IterableIterator<string> {
    return this.#entries.keys();
  }

  *values(): IterableIterator<T> {
    for (const e of this.#entries.values()) yield e.object;
  }

  resourceVersionOf(key: string): string | undefined {
    return this.#entries.get(key)?.resourceVersion;
  }

  /** An object was added or modified. Returns the event to deliver, or null for none. */
  upsert(raw: RawObject): InformerEvent<T> | null {
    const key = rawKey(raw);
    if (key === "") {
      this.#options.onInvalid("(unnamed)", new Error("object has no metadata.name"));
      return null;
    }
    const resourceVersion = raw.metadata?.resourceVersion ?? "";
    const previous = this.#entries.get(key);
    if (previous !== undefined && resourceVersion !== "" && previous.resourceVersion === resourceVersion) return null;
    let object: T;
    try {
      object = this.#options.convert(raw);
    } catch (err) {
      this.#options.onInvalid(key, err);
      return null;
    }
    this.#entries.set(key, { resourceVersion, object });
    return previous === undefined ? { type: "add", key, object } : { type: "update", key, old: previous.object, object };
  }

  /** An object was deleted. Returns the delete event, or null if the store did not hold it. */
  remove(raw: RawObject): InformerEvent<T> | null {
    const key = rawKey(raw);
    const previous = this.#entries.get(key);
    if (previous === undefined) return null;
    this.#entries.delete(key);
    return { type: "delete", key, old: previous.object };
  }

  /**
   * A fresh list replaces everything: what is new is added, what changed is updated, what is
   * gone is deleted, what is unchanged emits nothing.
   */
  replace(items: readonly RawObject[]): InformerEvent<T>[] {
    const events: InformerEvent<T>[] = [];
    const listed = new Set<string>();
    for (const raw of items) {
      listed.add(rawKey(raw));
      const event = this.upsert(raw);
      if (event !== null) events.push(event);
    }
    events.push(...this.keepOnly(listed));
    return events;
  }

  /** Deletes every object whose key is not in `keys` (what a fresh list did not name); returns the delete events. */
  keepOnly(keys: ReadonlySet<string>): InformerEvent<T>[] {
    const events: InformerEvent<T>[] = [];
    for (const [key, entry] of this.#entries) {
      if (keys.has(key)) continue;
      this.#entries.delete(key);
      events.push({ type: "delete", key, old: entry.object });
    }
    return events;
  }
}
