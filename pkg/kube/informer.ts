// Follows one kind of object on the API server and never gives up. Its first list (and each
// relist) is streamed: one watch with sendInitialEvents, every object an ADDED event, then a
// bookmark marking the end of the initial events, and the same stream goes on as the watch
// (Kubernetes' streaming lists, client-go's WatchList), so no whole list is ever one response
// body in memory. An API server that refuses that is listed instead (paginated; the first list
// from its watch cache, resourceVersion=0, as client-go's reflector does), then watched from the
// list's resourceVersion. Watches carry bookmarks; a broken or closed watch resumes from the last
// resourceVersion seen; 410 Gone means relist, and what vanished meanwhile is deleted.
// Failures are retried forever with capped, jittered backoff. Handlers are called in order,
// with the old object on updates, and a handler that throws is logged and contained.
import type { Logger } from "pino";
import { setTimeout as sleep } from "node:timers/promises";
import { ApiError, statusFromEvent, type ApiClient, type RawWatchEvent, type WatchEncoding, type WatchStream } from "./api-client.ts";
import { Backoff, defaultBackoff, isConnectionFailure, UNREACHABLE_MAX_MS, type BackoffOptions } from "./backoff.ts";
import { ObjectStore, rawKey, type InformerEvent, type RawObject } from "./object-store.ts";
import type { InformerMetrics } from "./informer-metrics.ts";
import type { DecodedFields } from "./protobuf-objects.ts";

export type InformerState = "starting" | "listing" | "watching" | "backoff" | "stopped";

export type InformerHandler<T> = (event: InformerEvent<T>) => void;

export interface InformerOptions<T> {
  /** A short name for logs and metrics: "services", "endpointslices". */
  readonly name: string;
  /** The collection's path, e.g. /api/v1/services or /apis/discovery.k8s.io/v1/endpointslices. */
  readonly path: string;
  readonly client: ApiClient;
  readonly convert: (raw: RawObject) => T;
  readonly log: Logger;
  readonly metrics?: InformerMetrics;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly pageSize?: number;
  /**
   * The first list reads the API server's watch cache (resourceVersion=0), which answers in one
   * response whatever the page size; default true. False: a consistent list, page by page.
   */
  readonly firstListFromCache?: boolean;
  /**
   * How watch events are asked for; "protobuf" only for kinds protobuf-objects.ts decodes. The
   * server may still answer in JSON, which is read as well. Default "json".
   */
  readonly encoding?: WatchEncoding;
  /** The fields a protobuf watch decodes (protobuf-objects.ts); all the converters read by default. */
  readonly decoded?: DecodedFields;
  /** Stream the first list and relists as watch events (sendInitialEvents); default true. */
  readonly streamList?: boolean;
  readonly backoff?: BackoffOptions;
  /** A watch with no event or bookmark for this long is treated as broken. */
  readonly idleTimeoutMs?: number;
  /** The server ends each watch after a random time in [min, 2*min) seconds, as client-go asks. */
  readonly minWatchTimeoutSeconds?: number;
}

class Gone extends Error {}

/** The annotation on the bookmark that ends a streamed list's initial events. */
export const INITIAL_EVENTS_END = "k8s.io/initial-events-end";

/**
 * Whether an API server's answer to a streamed list means it does not serve them (400 or 422:
 * sendInitialEvents or resourceVersionMatch on a watch are refused where the WatchList feature
 * is off or unknown), so the informer lists instead.
 */
export function refusesStreamedList(err: unknown): boolean {
  return err instanceof ApiError && (err.status.code === 400 || err.status.code === 422);
}

/** Whether a watch event is the bookmark that ends a streamed list's initial events. */
export function initialEventsEnd(e: RawWatchEvent): boolean {
  if (e.type !== "BOOKMARK") return false;
  const annotations = (e.object as { metadata?: { annotations?: Record<string, string> } } | null)?.metadata?.annotations;
  return annotations?.[INITIAL_EVENTS_END] === "true";
}

/** How long a watch must stay open to count as the server being healthy again. */
const HEALTHY_WATCH_MS = 10_000;

interface ListPage {
  readonly metadata?: { readonly resourceVersion?: string; readonly continue?: string };
  readonly items?: readonly RawObject[];
}

export class Informer<T> {
  readonly #o: InformerOptions<T>;
  readonly #store: ObjectStore<T>;
  readonly #handlers: InformerHandler<T>[] = [];
  readonly #backoff: Backoff;
  readonly #stop = new AbortController();
  #state: InformerState = "starting";
  #resourceVersion = "";
  #watch: WatchStream | null = null;
  #loop: Promise<void> | null = null;
  #markSynced: () => void = () => undefined;
  readonly #synced: Promise<void>;
  #isSynced = false;
  /** A list (streamed or not) is due: at start and after 410 Gone. */
  #needList = true;
  #streamList: boolean;

  constructor(options: InformerOptions<T>) {
    this.#o = options;
    this.#streamList = options.streamList ?? true;
    this.#backoff = new Backoff(options.backoff ?? defaultBackoff);
    this.#store = new ObjectStore<T>({
      convert: options.convert,
      onInvalid: (key, error) => {
        options.metrics?.invalidObject(options.name);
        options.log.error({ informer: options.name, object: key, err: error }, "object ignored: it failed conversion; the last good version, if any, is kept");
      },
    });
    this.#synced = new Promise((resolve) => {
      this.#markSynced = resolve;
    });
  }

  /**
   * Registers a handler. Registered before start(), it sees the initial adds; registered later,
   * it is first handed an add for each object held now (as client-go's AddEventHandler does), in
   * the same turn, so it misses and repeats nothing.
   */
  onEvent(handler: InformerHandler<T>): void {
    for (const key of this.#store.keys()) {
      const object = this.#store.get(key);
      if (object !== undefined) this.#deliverTo(handler, { type: "add", key, object });
    }
    this.#handlers.push(handler);
  }

  get state(): InformerState {
    return this.#state;
  }

  /** True once the first list has been delivered. */
  get hasSynced(): boolean {
    return this.#isSynced;
  }

  /** Resolves when the first list has been delivered to the handlers. */
  synced(): Promise<void> {
    return this.#synced;
  }

  /** The resourceVersion the next watch would resume from. */
  get resourceVersion(): string {
    return this.#resourceVersion;
  }

  get(key: string): T | undefined {
    return this.#store.get(key);
  }

  keys(): string[] {
    return [...this.#store.keys()];
  }

  values(): IterableIterator<T> {
    return this.#store.values();
  }

  get size(): number {
    return this.#store.size;
  }

  start(): void {
    if (this.#loop !== null) return;
    this.#loop = this.#run();
  }

  /** Ends the watch, cancels any backoff, and resolves when nothing is left running. */
  async stop(): Promise<void> {
    this.#stop.abort();
    this.#watch?.abort();
    await this.#loop;
    this.#setState("stopped");
  }

  #setState(state: InformerState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#o.metrics?.state(this.#o.name, state);
    this.#o.log.info({ informer: this.#o.name, state, resourceVersion: this.#resourceVersion }, `informer ${this.#o.name}: ${state}`);
  }

  get #stopped(): boolean {
    return this.#stop.signal.aborted;
  }

  #deliver(event: InformerEvent<T> | null): void {
    if (event === null) return;
    for (const handler of this.#handlers) this.#deliverTo(handler, event);
  }

  #deliverTo(handler: InformerHandler<T>, event: InformerEvent<T>): void {
    try {
      handler(event);
    } catch (err) {
      this.#o.metrics?.handlerError(this.#o.name);
      this.#o.log.error({ informer: this.#o.name, object: event.key, event: event.type, err }, "event handler threw; the informer carries on");
    }
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        if (this.#needList && this.#streamList) {
          await this.#watchOnce(true);
          if (this.#needList && !this.#stopped) {
            this.#streamList = false;
            this.#o.log.warn({ informer: this.#o.name }, "the API server ended a streamed list without its initial-events-end bookmark (it ignores sendInitialEvents): listing instead from now on");
          }
          continue;
        }
        if (this.#needList) await this.#list();
        await this.#watchOnce(false);
      } catch (err) {
        if (this.#stopped) break;
        if (err instanceof Gone) {
          this.#o.metrics?.restart(this.#o.name, "gone");
          this.#o.log.warn({ informer: this.#o.name, resourceVersion: this.#resourceVersion }, "resourceVersion expired (410 Gone): relisting");
          this.#needList = true;
          continue;
        }
        if (this.#needList && this.#streamList && refusesStreamedList(err)) {
          this.#streamList = false;
          this.#o.log.warn({ informer: this.#o.name, err }, "the API server refused a streamed list: listing instead from now on");
          continue;
        }
        const delay = this.#backoff.next(isConnectionFailure(err) ? UNREACHABLE_MAX_MS : Infinity);
        this.#o.metrics?.restart(this.#o.name, "error");
        this.#setState("backoff");
        this.#o.log.warn({ informer: this.#o.name, err, retryInMs: delay, attempt: this.#backoff.attempt }, "list or watch failed; retrying");
        try {
          await sleep(delay, undefined, { signal: this.#stop.signal });
        } catch {
          break;
        }
      }
    }
  }

  #query(): Record<string, string> {
    const q: Record<string, string> = {};
    if (this.#o.labelSelector !== undefined) q["labelSelector"] = this.#o.labelSelector;
    if (this.#o.fieldSelector !== undefined) q["fieldSelector"] = this.#o.fieldSelector;
    return q;
  }

  async #list(): Promise<void> {
    this.#setState("listing");
    const items: RawObject[] = [];
    let token = "";
    let resourceVersion = "";
    do {
      const query: Record<string, string> = { ...this.#query(), limit: String(this.#o.pageSize ?? 500) };
      if (token !== "") query["continue"] = token;
      // A relist (after 410 Gone) reads the latest state, so it never goes back in time.
      else if (!this.#isSynced && this.#o.firstListFromCache !== false) query["resourceVersion"] = "0";
      let page: ListPage;
      try {
        page = (await this.#o.client.getJson(this.#o.path, query, this.#stop.signal)) as ListPage;
      } catch (err) {
        // An expired continue token: start the list again from a fresh snapshot.
        if (err instanceof ApiError && err.gone && token !== "") throw new Gone();
        throw err;
      }
      if (resourceVersion === "") resourceVersion = page.metadata?.resourceVersion ?? "";
      for (const item of page.items ?? []) items.push(item);
      token = page.metadata?.continue ?? "";
    } while (token !== "" && !this.#stopped);
    if (this.#stopped) return;
    for (const event of this.#store.replace(items)) this.#deliver(event);
    this.#listDone(resourceVersion, items.length, false);
  }

  /** A list or a streamed list is delivered: watch from `resourceVersion` on, and say synced. */
  #listDone(resourceVersion: string, objects: number, streamed: false | WatchEncoding): void {
    this.#resourceVersion = resourceVersion;
    this.#needList = false;
    this.#o.metrics?.listed(this.#o.name, objects);
    this.#o.log.info({ informer: this.#o.name, objects, resourceVersion, streamed: streamed !== false, ...(streamed === false ? {} : { encoding: streamed }) }, "listed");
    if (!this.#isSynced) {
      this.#isSynced = true;
      this.#markSynced();
    }
  }

  /**
   * One watch until the server ends it or it breaks. `streamed`: it starts with the initial
   * events of a streamed list (a consistent read, no resourceVersion); the objects seen up to
   * the end bookmark are the list, and whatever the store holds besides them is deleted.
   */
  async #watchOnce(streamed: boolean): Promise<void> {
    const minTimeout = this.#o.minWatchTimeoutSeconds ?? 300;
    const query: Record<string, string> = {
      ...this.#query(),
      ...(streamed ? { sendInitialEvents: "true", resourceVersionMatch: "NotOlderThan" } : { resourceVersion: this.#resourceVersion }),
      allowWatchBookmarks: "true",
      timeoutSeconds: String(Math.floor(minTimeout * (1 + Math.random()))),
    };
    if (streamed) this.#setState("listing");
    const listed = streamed ? new Set<string>() : null;
    // Set from the event callback, read after the stream ends.
    const ended: { gone: boolean; failure: ApiError | null } = { gone: false, failure: null };
    let events = 0;
    const openedAt = Date.now();
    let stream: WatchStream | null = null;
    try {
      stream = await this.#o.client.watch(this.#o.path, query, {
        onEvent: (e, encoding) => {
          if (ended.gone || ended.failure !== null) return;
          events++;
          const outcome = listed !== null && this.#needList ? this.#handleInitialEvent(e, listed, encoding) : this.#handleWatchEvent(e);
          if (outcome === "gone") ended.gone = true;
          else if (outcome !== null) ended.failure = outcome;
          if (ended.gone || ended.failure !== null) stream?.abort();
        },
        onMalformed: (line, err) => {
          this.#o.metrics?.invalidObject(this.#o.name);
          this.#o.log.error({ informer: this.#o.name, line: line.slice(0, 200), err }, "malformed watch event skipped");
        },
      }, this.#o.idleTimeoutMs ?? 120_000, this.#o.encoding ?? "json", this.#o.decoded);
    } catch (err) {
      if (err instanceof ApiError && err.gone) throw new Gone();
      throw err;
    }
    this.#watch = stream;
    if (this.#stopped) stream.abort();
    if (!streamed) this.#setState("watching");
    try {
      await stream.finished;
    } catch (err) {
      if (!ended.gone && ended.failure === null && !this.#stopped) throw err;
    } finally {
      this.#watch = null;
      // A watch that stayed open a while proves the server healthy, even on a quiet resource
      // that had no event to reset the backoff (nodes, namespaces): the next failure starts
      // from the shortest delay, not from where an old outage left it.
      if (Date.now() - openedAt >= HEALTHY_WATCH_MS) this.#backoff.reset();
    }
    if (ended.gone) throw new Gone();
    if (ended.failure !== null) throw ended.failure;
    // A watch the server closed at once with nothing in it is a failure in disguise: back off.
    if (events === 0 && Date.now() - openedAt < 1000 && !this.#stopped) {
      throw new Error("watch closed immediately without events");
    }
    this.#backoff.reset();
  }

  /** One event of a streamed list before its end: an object of the list, or the end bookmark. */
  #handleInitialEvent(e: RawWatchEvent, listed: Set<string>, encoding: WatchEncoding): "gone" | ApiError | null {
    if (initialEventsEnd(e)) {
      for (const event of this.#store.keepOnly(listed)) this.#deliver(event);
      this.#listDone((e.object as RawObject).metadata?.resourceVersion ?? "", listed.size, encoding);
      this.#setState("watching");
      return null;
    }
    if (e.type === "ADDED" || e.type === "MODIFIED") listed.add(rawKey(e.object as RawObject));
    else if (e.type === "DELETED") listed.delete(rawKey(e.object as RawObject));
    return this.#handleWatchEvent(e);
  }

  /** Applies one watch event; returns "gone", an error to back off on, or null to carry on. */
  #handleWatchEvent(e: RawWatchEvent): "gone" | ApiError | null {
    const object = e.object as RawObject;
    const rv = object.metadata?.resourceVersion ?? "";
    switch (e.type) {
      case "ADDED":
      case "MODIFIED":
        this.#deliver(this.#store.upsert(object));
        break;
      case "DELETED":
        this.#deliver(this.#store.remove(object));
        break;
      case "BOOKMARK":
        break;
      case "ERROR": {
        const status = statusFromEvent(e.object);
        if (status.code === 410) return "gone";
        return new ApiError(`WATCH ${this.#o.path}`, status);
      }
      default:
        this.#o.log.error({ informer: this.#o.name, type: e.type }, "unknown watch event type skipped");
        return null;
    }
    if (rv !== "") this.#resourceVersion = rv;
    this.#backoff.reset();
    return null;
  }
}
