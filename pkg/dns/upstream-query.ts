// What the forwarder sends upstream and what it accepts back. The query carries the client's
// question with the client's DO and CD bits (a validating client behind signpost-dns needs its
// DNSSEC records, as CoreDNS passes them); a response counts only when it is a response to this
// ID and echoes this question: the name in any case (0x20), its type and class exactly.

/** The bits of a client's query that change what the upstream answers; the cache keys on them. */
export interface DnssecBits {
  /** DO, the OPT record's "DNSSEC OK": send RRSIGs and the rest. */
  readonly dnssecOk: boolean;
  /** CD, "checking disabled": a validating upstream answers even what fails validation. */
  readonly checkingDisabled: boolean;
}

export const NO_DNSSEC_BITS: DnssecBits = { dnssecOk: false, checkingDisabled: false };

const OPT_SIZE = 11;
const TYPE_OPT = 41;

/** A query with recursion desired and an OPT record advertising `udpSize`, for the question as the client asked it. */
export function buildQuery(id: number, question: Buffer, udpSize: number, bits: DnssecBits): Buffer {
  const out = Buffer.alloc(12 + question.length + OPT_SIZE);
  out.writeUInt16BE(id, 0);
  out[2] = 0x01; // RD
  out[3] = bits.checkingDisabled ? 0x10 : 0;
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(1, 10);
  question.copy(out, 12);
  const opt = 12 + question.length;
  out.writeUInt16BE(TYPE_OPT, opt + 1);
  out.writeUInt16BE(udpSize, opt + 3);
  if (bits.dnssecOk) out.writeUInt16BE(0x8000, opt + 7);
  return out;
}

/**
 * Whether `response` answers the query with `id` for `question` (name, type and class as on
 * the wire): QR set, the same ID, one question, and that question.
 */
export function answersQuery(response: Buffer, id: number, question: Buffer): boolean {
  if (response.length < 12 || (response[2] ?? 0) < 0x80) return false;
  return response.readUInt16BE(0) === id && response.readUInt16BE(4) === 1 && asksQuestion(response, question);
}

/**
 * Whether the message's first question is `question`: the same name but for letter case (0x20),
 * the same type and class byte for byte.
 */
export function asksQuestion(message: Buffer, question: Buffer): boolean {
  if (message.length < 12 + question.length) return false;
  const nameLength = question.length - 4;
  for (let i = 0; i < question.length; i++) {
    const a = message[12 + i] ?? 0;
    const b = question[i] ?? 0;
    if (a === b) continue;
    // Only a letter of the name may differ, and only in case; never a length byte, type or class.
    const letter = (a | 0x20) >= 0x61 && (a | 0x20) <= 0x7a;
    if (i >= nameLength || !letter || (a | 0x20) !== (b | 0x20)) return false;
  }
  return true;
}
