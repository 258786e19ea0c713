// CoreDNS's `loadbalance round_robin`: the A and AAAA records of an answer come in a different
// order each time, so clients that take the first address spread over all of them. Done on the
// response bytes, after any cache, so cached answers (cluster or forwarded) rotate too. Only the
// 4 or 16 address octets move between records of one owner and type: owner names, which other
// records may point at, stay where they are, and so does everything else.
import { sameName, walkMessage, type WalkedRecord } from "./message-walk.ts";
import { TYPE } from "./records.ts";

export class RoundRobin {
  #turn = 0;

  /**
   * `response` with each run of A or AAAA records of one owner in its answer section rotated:
   * a copy, since the bytes given may be those an answer cache keeps.
   */
  rotate(response: Buffer): Buffer {
    // A response without two answer records has nothing to rotate: skip the walk.
    if (response.length < 12 || response.readUInt16BE(6) < 2) return response;
    const walked = walkMessage(response);
    if (walked === null) return response;
    const turn = this.#turn++;
    if (this.#turn > 0x3fffffff) this.#turn = 0;
    let out: Buffer | null = null;
    let run: WalkedRecord[] = [];
    const flush = (): void => {
      if (run.length > 1 && turn % run.length !== 0) {
        out ??= Buffer.from(response);
        rotateRun(out, run, turn % run.length);
      }
      run = [];
    };
    for (const record of walked.records) {
      if (record.section !== 0) break;
      const size = addressSize(record.type);
      const first = run[0];
      const fits = size > 0 && record.end - record.ttlAt - 6 === size;
      if (first !== undefined && (!fits || record.type !== first.type || !sameName(response, first.start, record.start))) flush();
      if (fits) run.push(record);
    }
    flush();
    return out ?? response;
  }
}

function addressSize(type: number): number {
  if (type === TYPE.A) return 4;
  if (type === TYPE.AAAA) return 16;
  return 0;
}

/** The addresses of `run` moved `by` places forward: the record at `by` comes first. */
function rotateRun(msg: Buffer, run: readonly WalkedRecord[], by: number): void {
  const addresses = run.map((r) => Buffer.from(msg.subarray(r.ttlAt + 6, r.end)));
  run.forEach((r, i) => {
    const from = addresses[(i + by) % run.length];
    if (from !== undefined) from.copy(msg, r.ttlAt + 6);
  });
}
