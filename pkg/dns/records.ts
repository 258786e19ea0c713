// The resource records signpost-dns serves, as plain data. The record store builds them when a
// watch event arrives; wire.ts encodes each record set once, the first time it is asked for.

/** Query and record type codes (RFC 1035, 3596, 2782, 6891, 1995, 8482). */
export const TYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  HINFO: 13,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

export const CLASS_IN = 1;
export const CLASS_ANY = 255;

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  /** Needs an OPT record: 16 does not fit the header's 4 bits. */
  BADVERS: 16,
} as const;

export type Rcode = (typeof RCODE)[keyof typeof RCODE];

export type DnsRecord =
  | { readonly type: "A"; readonly ttl: number; readonly address: string }
  | { readonly type: "AAAA"; readonly ttl: number; readonly address: string }
  | { readonly type: "CNAME"; readonly ttl: number; readonly target: string }
  | { readonly type: "PTR"; readonly ttl: number; readonly target: string }
  | { readonly type: "NS"; readonly ttl: number; readonly target: string }
  | { readonly type: "TXT"; readonly ttl: number; readonly text: string }
  /** Only in RFC 8482's answer to ANY over UDP. */
  | { readonly type: "HINFO"; readonly ttl: number; readonly cpu: string; readonly os: string }
  | {
      readonly type: "SRV";
      readonly ttl: number;
      readonly priority: number;
      readonly weight: number;
      readonly port: number;
      readonly target: string;
    }
  | {
      readonly type: "SOA";
      readonly ttl: number;
      readonly primary: string;
      readonly admin: string;
      readonly serial: number;
      readonly refresh: number;
      readonly retry: number;
      readonly expire: number;
      readonly minimum: number;
    };

export type RecordType = DnsRecord["type"];

/**
 * Records of one type at one name. `owner` null means "the name in the question", which the
 * encoder writes as a pointer to the question, so the answer keeps the client's spelling.
 */
export interface RRSet {
  readonly type: number;
  readonly owner: string | null;
  readonly records: readonly DnsRecord[];
  /** Records for the additional section: the addresses of SRV targets. */
  readonly additional: readonly RRSet[];
}

/** The sections of an answer, with rcode and AA bit; owners null stand for the question name. */
export interface Reply {
  readonly rcode: number;
  readonly authoritative: boolean;
  readonly answer: readonly RRSet[];
  readonly authority: readonly RRSet[];
  readonly additional: readonly RRSet[];
}

export function typeCode(type: RecordType): number {
  return TYPE[type];
}

/** The one empty list of record sets, shared so that the many sets without glue hold no array of their own. */
export const NO_RRSETS: readonly RRSet[] = Object.freeze([]);

/**
 * Groups records by type into record sets owned by `owner`, types in first-seen order. Called for
 * every name of every Service a first list builds, so it walks by index and keeps the sets in an
 * array: a name holds one or two types (of the nine there are), never enough for a Map to pay.
 */
export function toRRSets(owner: string | null, records: readonly DnsRecord[]): RRSet[] {
  const first = records[0];
  if (first === undefined) return [];
  let oneType = true;
  for (let i = 1; i < records.length && oneType; i++) oneType = records[i]?.type === first.type;
  // Nearly every name holds one type: its list is used as it is, not copied.
  if (oneType) return [{ type: typeCode(first.type), owner, records, additional: NO_RRSETS }];
  const sets: { type: number; owner: string | null; records: DnsRecord[]; additional: readonly RRSet[] }[] = [];
  for (const record of records) {
    const code = typeCode(record.type);
    const set = sets.find((s) => s.type === code);
    if (set === undefined) sets.push({ type: code, owner, records: [record], additional: NO_RRSETS });
    else set.records.push(record);
  }
  return sets;
}
