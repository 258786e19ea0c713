// The two HTTP calls the watch layer makes: a GET that returns JSON (one page of a list) and a
// streaming watch, in JSON lines or, where asked and the server agrees, in protobuf frames
// (protobuf-objects.ts), as kube-proxy and CoreDNS watch. client-node supplies the transport
// (KubeConfig's credentials and its undici dispatcher); this module adds what its Watch lacks:
// the Status body of a failed request, and a report of every malformed line or frame instead of
// silently skipping it. Requests go through the dispatcher's request(), whose body is a Node
// stream, not fetch(), whose body is a web stream: a streamed list of 10,000 EndpointSlices
// arrives in thousands of chunks, and each paid for a web stream read, its promises and the
// adapter back to a Node stream. Only the Agent is imported of undici (hack/bundle-plugins.ts).
import type { Readable } from "node:stream";
import { Agent, type Dispatcher } from "undici";
// From their own modules, not the package root (see pkg/cli/trim-client-node.ts).
import type { KubeConfig } from "@kubernetes/client-node/dist/config.js";
import { HttpMethod, RequestContext } from "@kubernetes/client-node/dist/gen/http/http.js";
import { SignpostError } from "../errors/errors.ts";
import { type FrameHandler, LengthDelimitedFrames } from "./length-delimited-frames.ts";
import { NewlineDelimitedFrames } from "./newline-delimited-frames.ts";
import { ALL_FIELDS, decodeObject, decodeWatchEvent, type DecodedFields } from "./protobuf-objects.ts";

/** The fields of metav1.Status that explain a failure. */
export interface ApiStatus {
  readonly code: number;
  readonly reason: string;
  readonly message: string;
}

export class ApiError extends SignpostError {
  readonly status: ApiStatus;

  constructor(where: string, status: ApiStatus, options?: { cause?: unknown }) {
    super("SP_API_ERROR", where, `HTTP ${status.code} ${status.reason}: ${status.message}`, options);
    this.status = status;
  }

  /** 410 Gone: the resourceVersion or continue token is older than what etcd still keeps. */
  get gone(): boolean {
    return this.status.code === 410;
  }
}

export interface RawWatchEvent {
  readonly type: string;
  readonly object: unknown;
}

export interface WatchStream {
  /** How the server answered: protobuf frames, or JSON lines (for a kind it has no protobuf for). */
  readonly encoding: WatchEncoding;
  /** Resolves when the server ends the stream; rejects with the reason it broke. */
  readonly finished: Promise<void>;
  abort(): void;
}

export interface WatchCallbacks {
  /** An event, and how it came (the informer logs it). */
  readonly onEvent: (event: RawWatchEvent, encoding: WatchEncoding) => void;
  /** A line of JSON that does not parse, or a protobuf frame that does not decode (described). */
  readonly onMalformed: (line: string, error: unknown) => void;
}

/** How a watch asks for its events: JSON lines, or protobuf frames with JSON as the fallback. */
export type WatchEncoding = "json" | "protobuf";

const PROTOBUF = "application/vnd.kubernetes.protobuf";
const ACCEPT: Readonly<Record<WatchEncoding, string>> = { json: "application/json", protobuf: `${PROTOBUF}, application/json` };

/**
 * The largest watch event taken, a protobuf frame or a JSON line: etcd keeps objects of up to
 * 1.5 MiB, and each holds one object; anything far past that is a broken stream, not an object.
 */
export const MAX_WATCH_FRAME_BYTES = 16 * 1024 * 1024;

interface Opened {
  readonly url: string;
  readonly status: number;
  readonly contentType: string;
  readonly body: Dispatcher.ResponseData["body"];
}

export class ApiClient {
  readonly #kc: KubeConfig;
  readonly #server: string;
  /** For a server the kubeconfig gives no TLS settings for (plain http), where client-node sets no dispatcher. */
  #plain: Agent | null = null;

  constructor(kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new SignpostError("SP_BAD_KUBECONFIG", "current-context", "the kubeconfig has no current cluster");
    this.#kc = kc;
    this.#server = cluster.server.replace(/\/+$/, "");
  }

  get server(): string {
    return this.#server;
  }

  async #request(path: string, query: Readonly<Record<string, string>>, signal: AbortSignal, accept = ACCEPT.json): Promise<Opened> {
    const url = new URL(this.#server + path);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const ctx = new RequestContext(url.toString(), HttpMethod.GET);
    await this.#kc.applySecurityAuthentication(ctx);
    const dispatcher: Dispatcher = ctx.getDispatcher() ?? (this.#plain ??= new Agent());
    const response = await dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: "GET",
      headers: { ...ctx.getHeaders(), accept },
      signal,
    });
    const contentType = response.headers["content-type"];
    return { url: `${path}?${url.searchParams.toString()}`, status: response.statusCode, contentType: (Array.isArray(contentType) ? contentType[0] : contentType) ?? "", body: response.body };
  }

  async getJson(path: string, query: Readonly<Record<string, string>>, signal: AbortSignal): Promise<unknown> {
    const { url, status, body } = await this.#request(path, query, signal);
    const text = await body.text();
    if (status !== 200) throw new ApiError(`GET ${url}`, statusFromBody(status, Buffer.from(text), ""));
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new SignpostError("SP_API_ERROR", `GET ${url}`, "the response is not JSON", { cause: err });
    }
  }

  /**
   * Opens a watch. Events are delivered in order, synchronously per line or frame. Inactivity
   * longer than idleTimeoutMs (no event, no bookmark) counts as a broken connection. `decoded`:
   * the fields a protobuf watch reads (a JSON one parses whole).
   */
  async watch(path: string, query: Readonly<Record<string, string>>, callbacks: WatchCallbacks, idleTimeoutMs: number, asked: WatchEncoding = "json", decoded: DecodedFields = ALL_FIELDS): Promise<WatchStream> {
    const controller = new AbortController();
    // Re-armed on every chunk by refresh(), which moves the one timer instead of making a new one;
    // once cleared, refresh() no longer arms it.
    const idle = setTimeout(() => controller.abort(new Error(`no data for ${idleTimeoutMs} ms`)), idleTimeoutMs);
    idle.unref();
    const armIdle = (): void => void idle.refresh();
    const disarm = (): void => clearTimeout(idle);
    let opened: Opened;
    try {
      opened = await this.#request(path, { ...query, watch: "true" }, controller.signal, ACCEPT[asked]);
    } catch (err) {
      disarm();
      throw err;
    }
    const { url, status, contentType, body } = opened;
    if (status !== 200) {
      disarm();
      throw new ApiError(`WATCH ${url}`, statusFromBody(status, Buffer.from(await body.arrayBuffer()), contentType));
    }
    const encoding: WatchEncoding = contentType.startsWith(PROTOBUF) ? "protobuf" : "json";
    const stream: WatchedBody = { body, callbacks, armIdle, disarm, signal: controller.signal };
    return {
      encoding,
      finished: encoding === "protobuf" ? readFrames(stream, decoded) : readLines(stream),
      abort: () => {
        disarm();
        controller.abort();
      },
    };
  }
}

/** A watch's response body, what its events go to, and its idle timer. */
interface WatchedBody {
  readonly body: Readable;
  readonly callbacks: WatchCallbacks;
  readonly armIdle: () => void;
  readonly disarm: () => void;
  readonly signal: AbortSignal;
}

/** How a watch's reading ends when it breaks: with the abort's reason when it was aborted, once. */
function failOnce(w: WatchedBody, reject: (err: Error) => void): { fail: (err: unknown) => void; failed: () => boolean } {
  let failed = false;
  return {
    fail: (err) => {
      if (failed) return;
      failed = true;
      w.disarm();
      const reason: unknown = w.signal.reason;
      reject(w.signal.aborted && reason instanceof Error ? reason : err instanceof Error ? err : new Error(String(err)));
    },
    failed: () => failed,
  };
}

/** How a watch stream is cut into events: newline-delimited JSON, or length-delimited protobuf. */
interface Framing {
  push(chunk: Buffer, onFrame: FrameHandler): void;
  /** At the stream's end: the last frame if one is pending, or an error if it was cut short. */
  finish(onFrame: FrameHandler): void;
}

/** A JSON watch's lines, each parsed into a watch event; a line that does not parse is reported and skipped. */
function readLines(w: WatchedBody): Promise<void> {
  return readEvents(w, new NewlineDelimitedFrames(MAX_WATCH_FRAME_BYTES), (buf, start, end) => {
    const line = buf.toString("utf8", start, end);
    if (line.trim() === "") return;
    let event: RawWatchEvent;
    try {
      event = JSON.parse(line) as RawWatchEvent;
    } catch (err) {
      w.callbacks.onMalformed(line, err);
      return;
    }
    w.callbacks.onEvent(event, "json");
  });
}

/** A protobuf watch's frames, each decoded into a watch event; a frame that does not decode is reported and skipped. */
function readFrames(w: WatchedBody, decoded: DecodedFields): Promise<void> {
  return readEvents(w, new LengthDelimitedFrames(MAX_WATCH_FRAME_BYTES), (buf, start, end) => {
    let event: RawWatchEvent;
    try {
      event = decodeWatchEvent(buf, start, end, decoded);
    } catch (err) {
      w.callbacks.onMalformed(`protobuf watch frame of ${end - start} bytes`, err);
      return;
    }
    w.callbacks.onEvent(event, "protobuf");
  });
}

/**
 * Reads a watch's body through its framing, one event per frame, in order; ends when the body
 * does, or fails with the first error: of the body, of a frame over the bound, or of a handler.
 */
function readEvents(w: WatchedBody, framing: Framing, onFrame: FrameHandler): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const { fail, failed } = failOnce(w, reject);
    w.body.on("data", (chunk: Uint8Array) => {
      w.armIdle();
      try {
        framing.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength), onFrame);
      } catch (err) {
        fail(err);
        w.body.destroy();
      }
    });
    w.body.on("error", fail);
    w.body.on("end", () => {
      w.disarm();
      if (failed()) return;
      try {
        framing.finish(onFrame);
      } catch (err) {
        fail(err);
        return;
      }
      resolve();
    });
  });
}

function statusFromBody(code: number, body: Buffer, contentType: string): ApiStatus {
  if (contentType.startsWith(PROTOBUF)) {
    try {
      return statusFromEvent(decodeObject(body));
    } catch {
      return { code, reason: "", message: `an undecodable protobuf body of ${body.length} bytes` };
    }
  }
  const text = body.toString("utf8");
  try {
    const s = JSON.parse(text) as { code?: number; reason?: string; message?: string };
    return { code: s.code ?? code, reason: s.reason ?? "", message: s.message ?? text.slice(0, 300) };
  } catch {
    return { code, reason: "", message: text.slice(0, 300) };
  }
}

/** A watch ERROR event's object is a metav1.Status. */
export function statusFromEvent(object: unknown): ApiStatus {
  const s = (object ?? {}) as { code?: number; reason?: string; message?: string };
  return { code: s.code ?? 500, reason: s.reason ?? "", message: s.message ?? "watch error event" };
}
