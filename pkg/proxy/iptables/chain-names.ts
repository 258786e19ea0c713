// kube-proxy's chain names, kept byte for byte so that an operator who knows kube-proxy's rules
// recognises ours: fixed top-level chains, and per-Service chains named by a prefix and the
// first 16 characters of base32(sha256(...)), exactly as kube-proxy hashes them.

import { hash } from "node:crypto";
import type { Protocol } from "../../model/types.ts";
import type { ServicePortInfo } from "../service-ports.ts";

export const KUBE_SERVICES = "KUBE-SERVICES";
export const KUBE_EXTERNAL_SERVICES = "KUBE-EXTERNAL-SERVICES";
export const KUBE_NODEPORTS = "KUBE-NODEPORTS";
export const KUBE_POSTROUTING = "KUBE-POSTROUTING";
export const KUBE_MARK_MASQ = "KUBE-MARK-MASQ";
export const KUBE_FORWARD = "KUBE-FORWARD";
export const KUBE_PROXY_FIREWALL = "KUBE-PROXY-FIREWALL";
/**
 * The kubelet's chain for the localnet guard (CVE-2020-8558). kube-proxy writes the same rule
 * into it, and so do we: the chain is shared, so it is ours only while localhost node ports are.
 */
export const KUBE_FIREWALL = "KUBE-FIREWALL";
/** Empty chain written on every sync; when it is gone, someone flushed the table. */
export const KUBE_PROXY_CANARY = "KUBE-PROXY-CANARY";

/** The mark that asks KUBE-POSTROUTING to masquerade (kube-proxy's --iptables-masquerade-bit 14). */
export const MASQ_MARK = "0x4000";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** RFC 4648 base32 with padding, as Go's base32.StdEncoding. */
export function base32(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xffff;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >> (bits - 5)) & 31] ?? "";
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31] ?? "";
  while (out.length % 8 !== 0) out += "=";
  return out;
}

/**
 * The first 16 characters of base32(sha256(input)): those are the digest's first 80 bits, so only
 * its first 10 bytes are encoded (a third of the time of encoding all 32 and slicing, which a
 * first sync at 10,000 Services does some 110,000 times).
 */
function hash16(input: string): string {
  return base32(hash("sha256", input, "buffer").subarray(0, 10));
}

/** kube-proxy's portProtoHash: the suffix shared by a Service port's SVC, SVL, EXT and FW chains. */
export function portProtoHash(servicePortName: string, protocol: Protocol): string {
  return hash16(servicePortName + protocol.toLowerCase());
}

export interface ServiceChainNames {
  /** Cluster-policy endpoints. */
  readonly svc: string;
  /** Local-policy endpoints. */
  readonly svl: string;
  /** External destinations (node port, external IPs, LB IPs): masquerade or short-circuit. */
  readonly ext: string;
  /** loadBalancerSourceRanges firewall. */
  readonly fw: string;
}

export function serviceChainNames(servicePortName: string, protocol: Protocol): ServiceChainNames {
  const h = portProtoHash(servicePortName, protocol);
  return { svc: `KUBE-SVC-${h}`, svl: `KUBE-SVL-${h}`, ext: `KUBE-EXT-${h}`, fw: `KUBE-FW-${h}` };
}

/** KUBE-SEP-<hash> for one endpoint ("ip:port") of a Service port. */
export function endpointChainName(servicePortName: string, protocol: Protocol, endpointAddress: string): string {
  return `KUBE-SEP-${hash16(servicePortName + protocol.toLowerCase() + endpointAddress)}`;
}

/**
 * KUBE-DST-<hash> for the KUBE-SERVICES rules whose destinations lie in one prefix
 * ("10.96.12.0/24"), when that chain is split (service-dispatch.ts). Ours alone: kube-proxy has
 * no such chain.
 */
export function destinationChainName(cidr: string): string {
  return `KUBE-DST-${hash16(cidr)}`;
}

const serviceChainPattern = /^KUBE-(SVC|SVL|EXT|FW|SEP|DST)-[A-Z2-7]{16}$/;

/** A per-Service (or per-destination-prefix) chain of ours: the only kind a sync may delete. */
export function isServiceChainName(name: string): boolean {
  return serviceChainPattern.test(name);
}

/**
 * Remembers chain names per Service port object, so a sync of 10,000 Services does not hash
 * 100,000 endpoints again. Keyed weakly: dropping a state object drops its names. The wiring may
 * keep one namer across syncs; a fresh one per render is also correct, only slower.
 */
export class ChainNamer {
  readonly #ports = new WeakMap<ServicePortInfo, { names: ServiceChainNames; endpoints: Map<string, string> }>();

  #entry(port: ServicePortInfo): { names: ServiceChainNames; endpoints: Map<string, string> } {
    let entry = this.#ports.get(port);
    if (entry === undefined) {
      entry = { names: serviceChainNames(port.name, port.protocol), endpoints: new Map() };
      this.#ports.set(port, entry);
    }
    return entry;
  }

  service(port: ServicePortInfo): ServiceChainNames {
    return this.#entry(port).names;
  }

  endpoint(port: ServicePortInfo, endpointAddress: string): string {
    const cache = this.#entry(port).endpoints;
    let name = cache.get(endpointAddress);
    if (name === undefined) {
      name = endpointChainName(port.name, port.protocol, endpointAddress);
      cache.set(endpointAddress, name);
    }
    return name;
  }
}
