// Polling helpers for start-up: wait for an HTTP endpoint to answer 200 while watching that the
// process serving it has not died, so a failed start reports the process's own last words.
import { request } from "node:https";
import { request as httpRequest } from "node:http";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { LocalClusterError } from "./cluster-error.ts";
import { processFailed, type SupervisedProcess } from "./supervised-process.ts";

export type TlsClient = { readonly ca: string; readonly cert: string; readonly key: string } | "insecure";

export interface WaitForHttpOptions {
  readonly process: SupervisedProcess;
  readonly what: string;
  readonly timeoutMs: number;
  readonly tls?: TlsClient;
}

export function httpStatus(url: string, tls?: TlsClient, timeoutMs = 2000): Promise<number> {
  return new Promise((resolve) => {
    const u = new URL(url);
    const done = (code: number): void => resolve(code);
    const options =
      tls === undefined
        ? {}
        : tls === "insecure"
          ? { rejectUnauthorized: false }
          : { ca: readFileSync(tls.ca), cert: readFileSync(tls.cert), key: readFileSync(tls.key) };
    const req = (u.protocol === "https:" ? request : httpRequest)(u, { ...options, timeout: timeoutMs }, (res) => {
      res.resume();
      done(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy());
    req.on("error", () => done(0));
    req.end();
  });
}

export async function waitForHttpOk(url: string, o: WaitForHttpOptions): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  let last = 0;
  while (Date.now() < deadline) {
    if (!o.process.running) throw processFailed(o.process, `exited before ${o.what} answered`);
    last = await httpStatus(url, o.tls);
    if (last === 200) return;
    await sleep(200);
  }
  throw processFailed(o.process, `${o.what} did not answer 200 within ${o.timeoutMs} ms (last status ${last})`);
}

export async function waitUntil(check: () => Promise<boolean> | boolean, o: { timeoutMs: number; what: string; intervalMs?: number }): Promise<void> {
  const deadline = Date.now() + o.timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(o.intervalMs ?? 100);
  }
  throw new LocalClusterError(o.what, `not reached within ${o.timeoutMs} ms`);
}
