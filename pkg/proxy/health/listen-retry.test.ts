import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../../../test/support/eventually.ts";
import type { Listening } from "../../http/side-server.ts";
import { listenHttpOrRetry } from "./listen-retry.ts";
import { holdPort } from "../../../test/support/hold-port.ts";

const open: { close(): Promise<void> | void }[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
});

const hello = (_req: unknown, res: { end(body: string): void }): void => res.end("hello");

describe("listenHttpOrRetry", () => {
  it("with hard-fail, fails when the port is taken, naming the address", async () => {
    const held = await holdPort();
    open.push({ close: () => void held.server.close() });
    await expect(listenHttpOrRetry("127.0.0.1", held.port, hello, "--healthz-bind-address", { hardFail: true, retryMs: 10, onError: () => {} })).rejects.toThrow(`SP_LISTEN: --healthz-bind-address: cannot listen on 127.0.0.1:${held.port}`);
  });

  it("without it, reports the failure, keeps trying, and serves once the port is free", async () => {
    const held = await holdPort();
    const errors: unknown[] = [];
    let bound: Listening | null = null;
    const l = await listenHttpOrRetry("127.0.0.1", held.port, hello, "--healthz-bind-address", { hardFail: false, retryMs: 20, onError: (e) => errors.push(e), onListening: (x) => (bound = x) });
    open.push(l);
    expect(String(errors[0])).toContain(`SP_LISTEN: --healthz-bind-address: cannot listen on 127.0.0.1:${held.port}`);
    await eventually(() => errors.length >= 2, "a second attempt failed too");
    await new Promise<void>((resolve) => held.server.close(() => resolve()));
    await eventually(() => bound !== null, "the server bound the port once it was free", 10_000);
    expect(l.port).toBe(held.port);
    expect(await (await fetch(`http://127.0.0.1:${held.port}/`)).text()).toBe("hello");
  });

  it("stops trying once closed", async () => {
    const held = await holdPort();
    open.push({ close: () => void held.server.close() });
    const errors: unknown[] = [];
    const l = await listenHttpOrRetry("127.0.0.1", held.port, hello, "--healthz-bind-address", { hardFail: false, retryMs: 10, onError: (e) => errors.push(e) });
    await l.close();
    const after = errors.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(errors.length).toBe(after);
  });
});
