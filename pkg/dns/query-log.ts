// The optional query log (--query-log), one pino line per query with the fields of CoreDNS's
// log plugin: client, protocol, ID, type, class, name, rcode, response size and duration. It
// decodes the query a second time, which is fine for a debugging aid that is off by default;
// the gate (query-log-gate.ts) picks the classes written and bounds the lines a second.
import type { Logger } from "pino";
import { decodeQuery } from "./query-decode.ts";
import type { QueryHandler, QueryResult, Peer, Transport } from "./query-handler.ts";
import type { QueryLogGate } from "./query-log-gate.ts";
import { TYPE } from "./records.ts";

const TYPE_NAMES = new Map<number, string>(Object.entries(TYPE).map(([name, code]) => [code, name]));
/** A type's mnemonic, TYPE<n> for those signpost-dns has no name for. */
export function typeName(qtype: number): string {
  return TYPE_NAMES.get(qtype) ?? `TYPE${qtype}`;
}

const RCODE_NAMES = ["NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"];

/** Every query's line, or those `gate` admits. */
export function logQueries(log: Logger, handler: QueryHandler, gate?: QueryLogGate): QueryHandler {
  const maybeWrite = (message: Buffer, transport: Transport, peer: Peer | undefined, response: Buffer | null, started: number): void => {
    const missed = gate === undefined ? 0 : gate.admit(response);
    if (missed === null) return;
    if (missed > 0) log.warn({ dropped: missed }, "query log lines dropped: over log.rate");
    write(log, message, transport, peer, response, started);
  };
  return (message, transport, peer) => {
    const started = performance.now();
    const result: QueryResult = handler(message, transport, peer);
    if (result instanceof Promise) {
      return result.then((response) => {
        maybeWrite(message, transport, peer, response, started);
        return response;
      });
    }
    maybeWrite(message, transport, peer, result, started);
    return result;
  };
}

function write(log: Logger, message: Buffer, proto: Transport, peer: Peer | undefined, response: Buffer | null, started: number): void {
  const decoded = decodeQuery(message);
  const question = decoded.ok
    ? {
        id: decoded.query.id,
        qname: `${decoded.query.name}.`,
        qtype: typeName(decoded.query.qtype),
        qclass: decoded.query.qclass === 1 ? "IN" : `CLASS${decoded.query.qclass}`,
      }
    : { malformed: true, size: message.length };
  const rcode = response === null ? null : (response[3] ?? 0) & 0x0f;
  log.info(
    {
      client: peer === undefined ? undefined : `${peer.address}:${peer.port}`,
      proto,
      ...question,
      rcode: rcode === null ? "dropped" : (RCODE_NAMES[rcode] ?? `RCODE${rcode}`),
      rsize: response?.length ?? 0,
      durationMs: Math.round((performance.now() - started) * 1000) / 1000,
    },
    "query",
  );
}
