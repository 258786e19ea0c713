// Finds forwarding loops at run time, the way CoreDNS's loop plugin does: each upstream is sent
// a query for a random name no one else knows ("<random>.<random>.", type HINFO). If that name
// then reaches signpost-dns's own server, the upstream sends our queries back to us: a loop.
// CoreDNS sends its probe to itself and so waits to see it three times; ours goes straight to
// the upstream, so its first arrival is already a round trip through the loop. The looping
// upstream is then skipped (forwarded names get SERVFAIL when none is left) while cluster names
// are answered as before, and the probe is answered SERVFAIL here, which ends its round trips.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { SignpostError } from "../errors/errors.ts";
import type { ForwardMetrics } from "./forward-metrics.ts";
import type { Forwarder } from "./forwarder.ts";
import { decodeQuery } from "./query-decode.ts";
import type { QueryHandler } from "./query-handler.ts";
import { RCODE } from "./records.ts";
import { asksQuestion } from "./upstream-query.ts";
import { encodeBare } from "./wire.ts";

const TYPE_HINFO = 13;
const CLASS_IN = 1;
/** Each probe label: 16 hex digits, 64 random bits. */
const LABEL_LENGTH = 16;

export interface LoopDetectorOptions {
  /** How many upstreams there are; probes and loops name them by index. */
  readonly upstreams: number;
  /** Sends `question` to upstream number `index` alone; settles when it answers or gives up. */
  readonly probe: (index: number, question: Buffer) => Promise<unknown>;
  /** Upstream number `index` sent its probe (`name`, with its trailing dot) back to us. */
  readonly onLoop: (index: number, name: string) => void;
  /** Between probes to an upstream that did not answer; 2 s by default, as CoreDNS. */
  readonly retryMs?: number;
  /** How long to keep probing an upstream that does not answer; 30 s by default, as CoreDNS. */
  readonly giveUpMs?: number;
  /** Milliseconds; Date.now by default. */
  readonly now?: () => number;
}

export class LoopDetector {
  readonly #options: LoopDetectorOptions;
  /** Each upstream's probe question as on the wire: name, HINFO, IN. */
  readonly #questions: readonly Buffer[];
  readonly #names: readonly string[];
  readonly #looped: boolean[];
  readonly #stop = new AbortController();

  constructor(options: LoopDetectorOptions) {
    this.#options = options;
    const labels = Array.from({ length: options.upstreams }, () => [randomLabel(), randomLabel()]);
    this.#names = labels.map((pair) => `${pair.join(".")}.`);
    this.#questions = labels.map(probeQuestion);
    this.#looped = labels.map(() => false);
  }

  /** Whether upstream number `index` was found to loop. */
  looped(index: number): boolean {
    return this.#looped[index] ?? false;
  }

  /**
   * The hook in the query path: a probe that came back is answered SERVFAIL and reported; every
   * other query goes to `handler`. Most queries are let through on their first label's length.
   */
  watch(handler: QueryHandler): QueryHandler {
    return (message, transport, peer) => {
      if (message[12] !== LABEL_LENGTH || message.length < 12 + (this.#questions[0]?.length ?? 0)) return handler(message, transport, peer);
      const index = this.#questions.findIndex((question) => asksQuestion(message, question));
      if (index < 0) return handler(message, transport, peer);
      this.#loopFound(index);
      const decoded = decodeQuery(message);
      if (!decoded.ok) return null;
      return encodeBare(message, decoded.query, { rcode: RCODE.SERVFAIL, ra: true }, decoded.query.questionEnd);
    };
  }

  /** Probes every upstream, in the background, until each answers or `giveUpMs` passes. */
  start(): void {
    for (let index = 0; index < this.#options.upstreams; index++) void this.#probeUntilAnswered(index);
  }

  stop(): void {
    this.#stop.abort();
  }

  async #probeUntilAnswered(index: number): Promise<void> {
    const question = this.#questions[index];
    if (question === undefined) return;
    const now = this.#options.now ?? Date.now;
    const deadline = now() + (this.#options.giveUpMs ?? 30_000);
    const signal = this.#stop.signal;
    while (!signal.aborted && !this.looped(index) && now() < deadline) {
      try {
        await this.#options.probe(index, question);
        return;
      } catch {
        // Not answered yet (the upstream may still be starting): try again, as CoreDNS does.
      }
      try {
        await sleep(this.#options.retryMs ?? 2000, undefined, { signal, ref: false });
      } catch {
        return;
      }
    }
  }

  #loopFound(index: number): void {
    if (this.#looped[index] === true) return;
    this.#looped[index] = true;
    this.#options.onLoop(index, this.#names[index] ?? "");
  }
}

function randomLabel(): string {
  return randomBytes(LABEL_LENGTH / 2).toString("hex");
}

function probeQuestion(labels: readonly string[]): Buffer {
  const parts = labels.flatMap((label) => [Buffer.from([label.length]), Buffer.from(label, "ascii")]);
  const tail = Buffer.alloc(5);
  tail.writeUInt16BE(TYPE_HINFO, 1);
  tail.writeUInt16BE(CLASS_IN, 3);
  return Buffer.concat([...parts, tail]);
}

/**
 * A loop detector for signpost-dns's forwarder: a loop found stops forwarding to that upstream,
 * sets signpost_dns_forward_loop_detected and logs SP_DNS_LOOP naming the upstream.
 */
export function forwardingLoopGuard(
  forwarder: Forwarder,
  metrics: ForwardMetrics,
  labels: readonly string[],
  log: Logger,
): LoopDetector {
  return new LoopDetector({
    upstreams: labels.length,
    probe: (index, question) => forwarder.askUpstream(index, question),
    onLoop: (index, name) => {
      forwarder.stopForwardingTo(index);
      metrics.loop(index);
      const upstream = labels[index] ?? String(index);
      const err = new SignpostError(
        "SP_DNS_LOOP",
        `upstream ${upstream}`,
        `signpost-dns's loop probe "HINFO ${name}" sent there came back to signpost-dns: the upstream forwards ` +
          "to signpost-dns, a forwarding loop; nothing more is forwarded there (names outside the cluster get SERVFAIL " +
          "when no other upstream is left). Point --upstream at a resolv.conf whose nameservers do not forward to " +
          "signpost-dns (in a pod, dnsPolicy: Default)",
      );
      log.error({ err, upstream }, err.message);
    },
  });
}
