// The zone label of CoreDNS's query metrics (requests, responses, durations, sizes): each query
// is counted under the most specific configured zone that holds its name (the cluster zone, a
// forward zone, else "."), as CoreDNS counts it under the server block that served it. The zones
// come from the configuration, never from queries, so a client cannot grow the label set. The
// name is matched on the wire, label by label from the end, without decoding or allocating.

/** How many slots each series of a zone has, as QueryMetrics lays them out. */
export interface ZoneLayout {
  readonly protocols: number;
  readonly types: number;
  readonly durationBuckets: number;
  readonly sizeBuckets: number;
}

/** The counters of one zone. */
export class ZoneCounts {
  /** CoreDNS's spelling: "cluster.local.", "." for the root. */
  readonly label: string;
  /** By protocol then type. */
  readonly requests: Float64Array;
  /** By rcode below RARE_RCODE; the rest, which are rare, in `rare`. */
  readonly responses = new Float64Array(RARE_RCODE);
  readonly rare = new Map<number, number>();
  /** By type then bucket (not cumulative; the last bucket is +Inf), with the sums by type. */
  readonly durations: Float64Array;
  readonly durationSums: Float64Array;
  /** By protocol then bucket, with the sums by protocol. */
  readonly requestSizes: Float64Array;
  readonly requestSizeSums: Float64Array;
  readonly responseSizes: Float64Array;
  readonly responseSizeSums: Float64Array;

  constructor(label: string, layout: ZoneLayout) {
    this.label = label;
    this.requests = new Float64Array(layout.protocols * layout.types);
    this.durations = new Float64Array(layout.types * layout.durationBuckets);
    this.durationSums = new Float64Array(layout.types);
    this.requestSizes = new Float64Array(layout.protocols * layout.sizeBuckets);
    this.requestSizeSums = new Float64Array(layout.protocols);
    this.responseSizes = new Float64Array(layout.protocols * layout.sizeBuckets);
    this.responseSizeSums = new Float64Array(layout.protocols);
  }

  response(rcode: number): void {
    if (rcode < RARE_RCODE) this.responses[rcode] = (this.responses[rcode] ?? 0) + 1;
    else this.rare.set(rcode, (this.rare.get(rcode) ?? 0) + 1);
  }

  /** [rcode, count] for each rcode seen, in order. */
  responseCounts(): [number, number][] {
    const out: [number, number][] = [];
    this.responses.forEach((n, rcode) => {
      if (n > 0) out.push([rcode, n]);
    });
    return [...out, ...[...this.rare].sort(([a], [b]) => a - b)];
  }
}

/** Every named rcode (up to BADCOOKIE, 23) fits below this. */
const RARE_RCODE = 32;
/** A name has at most 127 labels (255 bytes). */
const MAX_LABELS = 128;

interface Zone {
  /** The zone's labels in wire form, without the root's zero byte, lower-case. */
  readonly wire: Uint8Array;
  readonly labels: number;
  readonly counts: ZoneCounts;
}

export class RequestZones {
  readonly #layout: ZoneLayout;
  /** Most labels first, so the most specific zone wins. */
  #zones: readonly Zone[] = [];
  #root: ZoneCounts;
  readonly #offsets = new Int32Array(MAX_LABELS);

  /** `zones`: names without the trailing dot; "." is always there. */
  constructor(zones: readonly string[], layout: ZoneLayout) {
    this.#layout = layout;
    this.#root = new ZoneCounts(".", layout);
    this.setZones(zones);
  }

  /** Counts under these zones from now on; a zone still named keeps its counts, a removed one's go. */
  setZones(zones: readonly string[]): void {
    const kept = new Map(this.#zones.map((z) => [z.counts.label, z.counts]));
    const names = [...new Set(zones.map((z) => z.toLowerCase().replace(/\.$/, "")))].filter((z) => z !== "" && z !== ".");
    this.#zones = names
      .map((name) => {
        const labels = name.split(".");
        const label = `${name}.`;
        return { wire: wireName(labels), labels: labels.length, counts: kept.get(label) ?? new ZoneCounts(label, this.#layout) };
      })
      .sort((a, b) => b.labels - a.labels);
  }

  /** The counts of the zone that holds the question name of `message`. */
  of(message: Uint8Array): ZoneCounts {
    const offsets = this.#offsets;
    let labels = 0;
    let at = 12;
    for (let length = message[at]; length !== 0; length = message[at]) {
      // A compressed or truncated question, or too many labels: count it under the root.
      if (length === undefined || length > 63 || labels === MAX_LABELS) return this.#root;
      offsets[labels++] = at;
      at += length + 1;
    }
    for (const zone of this.#zones) {
      if (zone.labels > labels) continue;
      const start = offsets[labels - zone.labels] ?? 0;
      if (at - start === zone.wire.length && sameIgnoringCase(message, start, zone.wire)) return zone.counts;
    }
    return this.#root;
  }

  /** Every zone's counts, the root first. */
  all(): ZoneCounts[] {
    return [this.#root, ...[...this.#zones].sort((a, b) => a.counts.label.localeCompare(b.counts.label)).map((z) => z.counts)];
  }
}

function wireName(labels: readonly string[]): Uint8Array {
  const parts = labels.flatMap((label) => [label.length, ...Buffer.from(label, "latin1")]);
  return Uint8Array.from(parts);
}

/** ASCII case-insensitive comparison; `wire` is lower-case and its length bytes are below "A". */
function sameIgnoringCase(message: Uint8Array, start: number, wire: Uint8Array): boolean {
  for (let i = 0; i < wire.length; i++) {
    let byte = message[start + i] ?? -1;
    if (byte >= 0x41 && byte <= 0x5a) byte += 0x20;
    if (byte !== wire[i]) return false;
  }
  return true;
}
