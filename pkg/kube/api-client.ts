// The two HTTP calls the watch layer makes: a GET that returns JSON (one page of a list) and a
// streaming watch. client-node supplies the transport (KubeConfig's credentials and its undici
// dispatcher); this module adds what its Watch lacks: the Status body of a failed request, and
// a report of every malformed line instead of silently skipping it.
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { fetch, type Response } from "undici";
// From their own modules, not the package root (see pkg/cli/trim-client-node.ts).
import type { KubeConfig } from "@kubernetes/client-node/dist/config.js";
import { HttpMethod, RequestContext } from "@kubernetes/client-node/dist/gen/http/http.js";
import { SignpostError } from "../errors/errors.ts";

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
  /** Resolves when the server ends the stream; rejects with the reason it broke. */
  readonly finished: Promise<void>;
  abort(): void;
}

export interface WatchCallbacks {
  readonly onEvent: (event: RawWatchEvent) => void;
  readonly onMalformed: (line: string, error: unknown) => void;
}

interface Opened {
  readonly url: string;
  readonly response: Response;
}

export class ApiClient {
  readonly #kc: KubeConfig;
  readonly #server: string;

  constructor(kc: KubeConfig) {
    const cluster = kc.getCurrentCluster();
    if (cluster === null) throw new SignpostError("SP_BAD_KUBECONFIG", "current-context", "the kubeconfig has no current cluster");
    this.#kc = kc;
    this.#server = cluster.server.replace(/\/+$/, "");
  }

  get server(): string {
    return this.#server;
  }

  async #request(path: string, query: Readonly<Record<string, string>>, signal: AbortSignal): Promise<Opened> {
    const url = new URL(this.#server + path);
    for (const [k, v] of Object.entries(query)) url.searchParams.set(k, v);
    const ctx = new RequestContext(url.toString(), HttpMethod.GET);
    await this.#kc.applySecurityAuthentication(ctx);
    const headers = ctx.getHeaders();
    const response = await fetch(url, {
      method: "GET",
      headers: { ...headers, accept: "application/json" },
      dispatcher: ctx.getDispatcher(),
      signal,
    });
    return { url: `${path}?${url.searchParams.toString()}`, response };
  }

  async getJson(path: string, query: Readonly<Record<string, string>>, signal: AbortSignal): Promise<unknown> {
    const { url, response } = await this.#request(path, query, signal);
    const text = await response.text();
    if (response.status !== 200) throw new ApiError(`GET ${url}`, statusFromBody(response.status, text));
    try {
      return JSON.parse(text) as unknown;
    } catch (err) {
      throw new SignpostError("SP_API_ERROR", `GET ${url}`, "the response is not JSON", { cause: err });
    }
  }

  /**
   * Opens a watch. Events are delivered in order, synchronously per line. Inactivity longer
   * than idleTimeoutMs (no event, no bookmark) counts as a broken connection.
   */
  async watch(path: string, query: Readonly<Record<string, string>>, callbacks: WatchCallbacks, idleTimeoutMs: number): Promise<WatchStream> {
    const controller = new AbortController();
    let idle: NodeJS.Timeout | undefined;
    const armIdle = (): void => {
      if (idle !== undefined) clearTimeout(idle);
      idle = setTimeout(() => controller.abort(new Error(`no data for ${idleTimeoutMs} ms`)), idleTimeoutMs);
      idle.unref();
    };
    armIdle();
    let opened: Opened;
    try {
      opened = await this.#request(path, { ...query, watch: "true" }, controller.signal);
    } catch (err) {
      clearTimeout(idle);
      throw err;
    }
    const { url, response } = opened;
    if (response.status !== 200 || response.body === null) {
      clearTimeout(idle);
      const text = await response.text();
      throw new ApiError(`WATCH ${url}`, statusFromBody(response.status, text));
    }
    const body = Readable.fromWeb(response.body);
    const finished = new Promise<void>((resolve, reject) => {
      const lines = createInterface({ input: body, crlfDelay: Infinity });
      let failed = false;
      body.on("data", armIdle);
      const fail = (err: Error): void => {
        if (failed) return;
        failed = true;
        clearTimeout(idle);
        const reason: unknown = controller.signal.reason;
        reject(controller.signal.aborted && reason instanceof Error ? reason : err);
      };
      // readline re-emits its input's errors: both need a listener, or an abort is uncaught.
      body.on("error", fail);
      lines.on("error", fail);
      lines.on("line", (line) => {
        if (line.trim() === "") return;
        let event: RawWatchEvent;
        try {
          event = JSON.parse(line) as RawWatchEvent;
        } catch (err) {
          callbacks.onMalformed(line, err);
          return;
        }
        callbacks.onEvent(event);
      });
      lines.on("close", () => {
        clearTimeout(idle);
        if (!failed) resolve();
      });
    });
    return {
      finished,
      abort: () => {
        clearTimeout(idle);
        controller.abort();
      },
    };
  }
}

function statusFromBody(code: number, text: string): ApiStatus {
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
