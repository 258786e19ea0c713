// kube-proxy's --bind-address-hard-fail: by default an address that cannot be bound (another
// process holds the port) is not fatal; the server is tried again every few seconds while the
// daemon serves Services, and each failure is reported. With hard-fail the first failure stops
// the daemon.
import { type Handler, type Listening, listenHttp } from "../../http/side-server.ts";

export interface RetryOptions {
  readonly hardFail: boolean;
  /** kube-proxy retries every 5 s. */
  readonly retryMs: number;
  /** Each failed attempt, with what failed. */
  readonly onError: (err: unknown) => void;
  readonly onListening?: (l: Listening) => void;
}

/**
 * Listens on host:port; when that fails, throws with hardFail, else returns at once a Listening
 * whose port is the requested one until a retry binds it.
 */
export async function listenHttpOrRetry(host: string, port: number, handler: Handler, setting: string, options: RetryOptions): Promise<Listening> {
  try {
    return await listenHttp(host, port, handler, setting);
  } catch (err) {
    if (options.hardFail) throw err;
    options.onError(err);
  }
  let current: Listening | null = null;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  const attempt = (): void => {
    listenHttp(host, port, handler, setting).then(
      async (l) => {
        if (closed) return l.close();
        current = l;
        options.onListening?.(l);
      },
      (err: unknown) => {
        if (closed) return;
        options.onError(err);
        timer = setTimeout(attempt, options.retryMs);
      },
    );
  };
  timer = setTimeout(attempt, options.retryMs);
  return {
    get address() {
      return current?.address ?? host;
    },
    get port() {
      return current?.port ?? port;
    },
    async close() {
      closed = true;
      clearTimeout(timer);
      await current?.close();
    },
  };
}
