// CoreDNS forward's transport options as a forward entry's fields, for `signpost-dns import`:
// force_tcp, prefer_udp, max_concurrent and expire. A forward without prefer_udp asks over the
// client's transport in CoreDNS, so the entry gets `preferUdp: false` unless the Corefile says
// otherwise: the migrated zone forwards as it did (signpost's own default is UDP first).
import { parseDuration } from "../../cli/flags.ts";
import type { Directive } from "./corefile.ts";

export interface ForwardTransportOut {
  forceTcp?: boolean;
  preferUdp?: boolean;
  maxConcurrent?: number;
  expire?: string;
}

/** CoreDNS's defaults, written out: the client's transport. */
export const COREDNS_TRANSPORT: ForwardTransportOut = { preferUdp: false };

/** Sets `out`'s field for `option`; false when it is not one of these options or is malformed. */
export function convertForwardTransport(option: Directive, out: ForwardTransportOut): boolean {
  const [arg = "", ...more] = option.args;
  switch (option.name) {
    case "force_tcp":
      if (option.args.length > 0) return false;
      // CoreDNS: force_tcp wins over prefer_udp.
      delete out.preferUdp;
      out.forceTcp = true;
      return true;
    case "prefer_udp":
      if (option.args.length > 0) return false;
      if (out.forceTcp !== true) out.preferUdp = true;
      return true;
    case "max_concurrent":
      if (more.length > 0 || !/^\d+$/.test(arg) || Number(arg) < 1 || Number(arg) > 1_000_000) return false;
      out.maxConcurrent = Number(arg);
      return true;
    case "expire": {
      const ms = parseDuration(arg);
      if (more.length > 0 || Number.isNaN(ms) || ms > 3_600_000) return false;
      out.expire = arg;
      return true;
    }
    default:
      return false;
  }
}
