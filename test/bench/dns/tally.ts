// What the DNS section collects while it runs, per contestant: raw samples under a figure key,
// the commands behind each figure, response-code mixes, lost queries, latency sets for the CDF
// plots, and why a contestant could not be measured. main.ts turns it into SectionResults.
import type { ContestantId } from "./contestants.ts";

/** Whose samples: a contestant's, the machine's UDP ceiling (udp-ceiling.ts), or the propagation floor (propagation.ts). */
export type SampleOwner = ContestantId | "ceiling" | "floor";

export class Tally {
  readonly #samples = new Map<string, number[]>();
  readonly #commands = new Map<string, string[]>();
  readonly #latencies = new Map<string, Float64Array[]>();
  readonly #rcodes = new Map<string, Map<string, number>>();
  readonly #lost = new Map<string, { lost: number; sent: number }>();
  readonly failures = new Map<ContestantId, string>();

  add(id: SampleOwner, key: string, value: number): void {
    const k = `${id}/${key}`;
    this.#samples.set(k, [...(this.#samples.get(k) ?? []), Number(value.toPrecision(6))]);
  }

  samples(id: SampleOwner, key: string): number[] | null {
    const values = this.#samples.get(`${id}/${key}`);
    return values === undefined || values.length === 0 ? null : values;
  }

  command(key: string, command: string): void {
    const list = this.#commands.get(key) ?? [];
    if (!list.includes(command)) list.push(command);
    this.#commands.set(key, list);
  }

  commands(...keys: string[]): string[] {
    return [...new Set(keys.flatMap((k) => this.#commands.get(k) ?? []))];
  }

  latencies(id: ContestantId, key: string, sorted: Float64Array): void {
    const k = `${id}/${key}`;
    this.#latencies.set(k, [...(this.#latencies.get(k) ?? []), sorted]);
  }

  /** Every latency kept under key, sorted ascending. */
  allLatencies(id: ContestantId, key: string): Float64Array {
    const parts = this.#latencies.get(`${id}/${key}`) ?? [];
    const all = new Float64Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return all.sort();
  }

  rcodes(id: ContestantId, key: string, codes: Readonly<Record<string, number>>): void {
    const k = `${id}/${key}`;
    const m = this.#rcodes.get(k) ?? new Map<string, number>();
    for (const [code, n] of Object.entries(codes)) m.set(code, (m.get(code) ?? 0) + n);
    this.#rcodes.set(k, m);
  }

  rcodeMix(id: ContestantId, key: string): Record<string, number> | null {
    const m = this.#rcodes.get(`${id}/${key}`);
    return m === undefined ? null : Object.fromEntries(m);
  }

  lost(id: ContestantId, key: string, lost: number, sent: number): void {
    const k = `${id}/${key}`;
    const prev = this.#lost.get(k) ?? { lost: 0, sent: 0 };
    this.#lost.set(k, { lost: prev.lost + lost, sent: prev.sent + sent });
  }

  lostOf(id: ContestantId, key: string): { lost: number; sent: number } | null {
    return this.#lost.get(`${id}/${key}`) ?? null;
  }
}
