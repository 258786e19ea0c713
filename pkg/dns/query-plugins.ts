// The plugins that sit around the cluster and the forwarder, in CoreDNS's plugin order:
// loadbalance (outermost, after every cache), rewrite, then hosts, and then the query handler
// (cluster names, else the upstream). Each works on the message, so the handler and its caches
// know nothing of them; with none configured a query passes straight through.
import type { HostsSource } from "./hosts-source.ts";
import { decodeQuery, type Query } from "./query-decode.ts";
import type { Peer, QueryHandler, QueryResult, Transport } from "./query-handler.ts";
import { CLASS_IN, RCODE } from "./records.ts";
import { renameResponse, withQuestionName } from "./response-rename.ts";
import { fitsWire, revertName, type Rewrite, rewriteName, type RewriteRule } from "./rewrite-rules.ts";
import type { RoundRobin } from "./round-robin.ts";
import { encodeBare, encodeReply, TCP_LIMIT, udpLimit } from "./wire.ts";

export interface QueryPlugins {
  readonly rewrite: readonly RewriteRule[];
  readonly hosts: HostsSource | null;
  /** Rotates A and AAAA records (loadbalance round_robin); null leaves the order. */
  readonly loadbalance: RoundRobin | null;
}

export const NO_PLUGINS: QueryPlugins = { rewrite: [], hosts: null, loadbalance: null };

/**
 * `handler` with the plugins `current()` gives at each query (a reload swaps them). `recursionAvailable`
 * sets RA in the answers hosts gives, as the handler sets it in its own.
 */
export function withPlugins(handler: QueryHandler, current: () => QueryPlugins, recursionAvailable: boolean): QueryHandler {
  return (message, transport, peer) => {
    const plugins = current();
    const rotation = plugins.loadbalance;
    if (plugins.rewrite.length === 0 && plugins.hosts === null) {
      // Nothing reads the question: the query is not decoded twice.
      const result = handler(message, transport, peer);
      return rotation === null ? result : then(result, (response) => rotation.rotate(response));
    }
    const decoded = decodeQuery(message);
    if (!decoded.ok) return handler(message, transport, peer);
    const asked = decoded.query;
    const rewrite = asked.name.includes("\\") ? null : rewriteName(plugins.rewrite, asked.name);
    const limit = transport === "udp" ? udpLimit(asked.edns) : TCP_LIMIT;
    let result: QueryResult;
    if (rewrite === null) {
      result = answer(plugins, handler, message, asked, transport, peer, recursionAvailable);
    } else if (!fitsWire(rewrite.name)) {
      // CoreDNS answers an error when a rule makes a name that is not a legal domain name.
      result = encodeBare(message, asked, { rcode: RCODE.SERVFAIL, ra: recursionAvailable }, asked.questionEnd);
    } else {
      const renamed = withQuestionName(message, asked.nameEnd, rewrite.name);
      const again = decodeQuery(renamed);
      const inner = again.ok ? answer(plugins, handler, renamed, again.query, transport, peer, recursionAvailable) : null;
      result = then(inner, (response) => revert(response, message, asked, rewrite, limit));
    }
    return rotation === null ? result : then(result, (response) => rotation.rotate(response));
  };
}

/** Hosts first, then the handler. */
function answer(plugins: QueryPlugins, handler: QueryHandler, message: Buffer, query: Query, transport: Transport, peer: Peer | undefined, ra: boolean): QueryResult {
  const reply = plugins.hosts !== null && query.qclass === CLASS_IN ? plugins.hosts.answer(query.name, query.qtype) : null;
  if (reply === null) return handler(message, transport, peer);
  const limit = transport === "udp" ? udpLimit(query.edns) : TCP_LIMIT;
  return encodeReply(message, query, reply, { limit, recursionAvailable: ra });
}

/** The response to the rewritten question, given back as the answer to the asked one. */
function revert(response: Buffer, message: Buffer, asked: Query, rewrite: Rewrite, limit: number): Buffer {
  const question = message.subarray(12, asked.questionEnd);
  const renamed = renameResponse(response, question, (owner) => {
    const name = revertName(owner, asked.name, rewrite);
    return name === asked.name ? null : name;
  }, limit);
  return renamed ?? encodeBare(message, asked, { rcode: RCODE.SERVFAIL, ra: true }, asked.questionEnd);
}

function then(result: QueryResult, next: (response: Buffer) => Buffer): QueryResult {
  if (result === null) return null;
  if (result instanceof Promise) return result.then((r) => (r === null ? null : next(r)));
  return next(result);
}
