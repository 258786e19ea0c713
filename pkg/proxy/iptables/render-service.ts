// The rules of one Service port. Entry rules in the top-level chains (KUBE-SERVICES,
// KUBE-NODEPORTS, and the filter chains that REJECT or DROP) are written on every sync; the
// port's own chains (SVC, SVL, EXT, FW, SEP) go to a buffer of their own, which a partial sync
// leaves out when the Service did not change. The decisions follow kube-proxy's iptables proxier.

import type { ServicePortState } from "../proxy-state.ts";
import { cidrContains } from "../../model/ip.ts";
import { externallyAccessible, usesClusterEndpoints, usesLocalEndpoints } from "../service-ports.ts";
import type { ChainNamer } from "./chain-names.ts";
import {
  KUBE_EXTERNAL_SERVICES,
  KUBE_MARK_MASQ,
  KUBE_NODEPORTS,
  KUBE_PROXY_FIREWALL,
  KUBE_SERVICES,
} from "./chain-names.ts";
import type { RenderConfig } from "./render-config.ts";
import { writeEndpointChains, writePolicyChainRules } from "./render-endpoints.ts";
import type { TableBuffer } from "./restore-writer.ts";
import type { DestinationRules } from "./service-dispatch.ts";
import { comment } from "./restore-writer.ts";

export interface ServiceRenderTarget {
  /** Rules in the filter table's top-level chains. */
  readonly filter: TableBuffer;
  /** The port's rules in KUBE-SERVICES, by destination (service-dispatch.ts writes them). */
  readonly services: DestinationRules;
  /** Its rules in KUBE-NODEPORTS. */
  readonly natTop: TableBuffer;
  /** The port's own nat chains and their rules. */
  readonly natChains: TableBuffer;
  /** Collects every nat chain the port uses. */
  readonly activeChains: Set<string>;
  readonly namer: ChainNamer;
  readonly config: RenderConfig;
}

export function renderServicePort(state: ServicePortState, out: ServiceRenderTarget): void {
  const { info: port, endpoints } = state;
  const { config, filter, services, natTop, natChains } = out;
  const names = out.namer.service(port);
  const proto = port.protocol.toLowerCase();
  const protoMatch = `-m ${proto} -p ${proto}`;

  const hasEndpoints = endpoints.hasAnyEndpoints;
  const usesClusterPolicyChain = endpoints.cluster.length > 0 && usesClusterEndpoints(port);
  const usesLocalPolicyChain = endpoints.local.length > 0 && usesLocalEndpoints(port);

  // Internal traffic (to the cluster IP) goes to the policy chain of internalTrafficPolicy.
  const internalPolicyChain = port.internalPolicyLocal ? names.svl : names.svc;
  const hasInternalEndpoints = hasEndpoints && (!port.internalPolicyLocal || endpoints.local.length > 0);
  // External traffic goes through KUBE-EXT, then to the policy chain of externalTrafficPolicy.
  const externalPolicyChain = port.externalPolicyLocal ? names.svl : names.svc;
  const hasExternalEndpoints = hasEndpoints && (!port.externalPolicyLocal || endpoints.local.length > 0);
  // KUBE-EXT exists whenever there are endpoints at all: under Local policy it still routes
  // pod and node traffic to the Cluster chain even when this node has no endpoint.
  const usesExternalChain = hasEndpoints && externallyAccessible(port);
  const usesFirewallChain = hasEndpoints && port.loadBalancerIPs.length > 0 && port.loadBalancerSourceRanges.length > 0;
  const loadBalancerChain = usesFirewallChain ? names.fw : names.ext;

  // No endpoint anywhere: REJECT, so clients fail at once. Endpoints exist but none usable
  // under a Local policy: DROP, as a node without local endpoints should look dead to an LB.
  const refusal = hasEndpoints
    ? { target: "DROP", note: `${port.name} has no local endpoints` }
    : { target: "REJECT", note: `${port.name} has no endpoints` };

  const dst = (ip: string, p: number): string => `-d ${ip} --dport ${p}`;

  // Cluster IP.
  if (hasInternalEndpoints) {
    services.add(port.clusterIP, comment(`${port.name} cluster IP`), protoMatch, dst(port.clusterIP, port.port), `-j ${internalPolicyChain}`);
  } else {
    filter.append(KUBE_SERVICES, comment(refusal.note), protoMatch, dst(port.clusterIP, port.port), `-j ${refusal.target}`);
  }

  // External IPs.
  for (const ip of port.externalIPs) {
    if (hasEndpoints) {
      services.add(ip, comment(`${port.name} external IP`), protoMatch, dst(ip, port.port), `-j ${names.ext}`);
    }
    if (!hasExternalEndpoints) {
      filter.append(KUBE_EXTERNAL_SERVICES, comment(refusal.note), protoMatch, dst(ip, port.port), `-j ${refusal.target}`);
    }
  }

  // Load-balancer IPs. Traffic that KUBE-FW lets through is DNATed in nat, so the filter rule
  // below only ever sees what KUBE-FW refused.
  for (const ip of port.loadBalancerIPs) {
    if (hasEndpoints) {
      services.add(ip, comment(`${port.name} loadbalancer IP`), protoMatch, dst(ip, port.port), `-j ${loadBalancerChain}`);
    }
    if (usesFirewallChain) {
      filter.append(KUBE_PROXY_FIREWALL, comment(`${port.name} traffic not accepted by ${names.fw}`), protoMatch, dst(ip, port.port), "-j DROP");
    }
  }
  if (!hasExternalEndpoints) {
    for (const ip of port.loadBalancerIPs) {
      filter.append(KUBE_EXTERNAL_SERVICES, comment(refusal.note), protoMatch, dst(ip, port.port), `-j ${refusal.target}`);
    }
  }

  // Node port. loadBalancerSourceRanges do not apply to it, as in kube-proxy.
  if (port.nodePort !== 0) {
    if (hasEndpoints) {
      natTop.append(KUBE_NODEPORTS, comment(port.name), protoMatch, `--dport ${port.nodePort}`, `-j ${names.ext}`);
    }
    if (!hasExternalEndpoints) {
      filter.append(
        KUBE_EXTERNAL_SERVICES,
        comment(refusal.note),
        "-m addrtype --dst-type LOCAL",
        protoMatch,
        `--dport ${port.nodePort}`,
        `-j ${refusal.target}`,
      );
    }
  }

  // The port's own chains.
  if (hasInternalEndpoints) {
    const match = [...comment(`${port.name} cluster IP`), protoMatch, dst(port.clusterIP, port.port)];
    if (config.masqueradeAll) {
      natChains.append(internalPolicyChain, match, `-j ${KUBE_MARK_MASQ}`);
    } else if (config.localDetector !== null) {
      // Off-cluster clients routed to a cluster IP may be sent to another node: masquerade.
      natChains.append(internalPolicyChain, match, config.localDetector.ifNotLocal, `-j ${KUBE_MARK_MASQ}`);
    }
  }

  if (usesExternalChain) {
    const ext = names.ext;
    natChains.declareChain(ext);
    out.activeChains.add(ext);
    if (!port.externalPolicyLocal) {
      // The endpoint may be on another node: masquerade so the reply comes back through us.
      natChains.append(ext, comment(`masquerade traffic for ${port.name} external destinations`), `-j ${KUBE_MARK_MASQ}`);
    } else {
      if (config.localDetector !== null) {
        // Pod traffic to an external destination is treated as if it came back in from outside
        // the cluster after going out to a load balancer: no policy applies.
        natChains.append(ext, comment(`pod traffic for ${port.name} external destinations`), config.localDetector.ifLocal, `-j ${names.svc}`);
      }
      // The node itself: its source would be a local address, so masquerade and use all endpoints.
      natChains.append(
        ext,
        comment(`masquerade LOCAL traffic for ${port.name} external destinations`),
        "-m addrtype --src-type LOCAL",
        `-j ${KUBE_MARK_MASQ}`,
      );
      natChains.append(ext, comment(`route LOCAL traffic for ${port.name} external destinations`), "-m addrtype --src-type LOCAL", `-j ${names.svc}`);
    }
    if (hasExternalEndpoints) natChains.append(ext, `-j ${externalPolicyChain}`);
  }

  if (usesFirewallChain) {
    const fw = names.fw;
    natChains.declareChain(fw);
    out.activeChains.add(fw);
    const note = comment(`${port.name} loadbalancer IP`);
    let allowFromNode = false;
    for (const cidr of port.loadBalancerSourceRanges) {
      natChains.append(fw, note, `-s ${cidr}`, `-j ${names.ext}`);
      if (config.nodeIPs.some((ip) => cidrContains(cidr, ip))) allowFromNode = true;
    }
    // A VIP-style LB IP is often a local address, so a request from this node loops back with
    // the LB IP as its source: let it through when the node itself is allowed.
    if (allowFromNode) {
      for (const ip of port.loadBalancerIPs) natChains.append(fw, note, `-s ${ip}`, `-j ${names.ext}`);
    }
    // What falls off the end was not DNATed, so KUBE-PROXY-FIREWALL in filter drops it.
    natChains.append(fw, comment(`other traffic to ${port.name} will be dropped by KUBE-PROXY-FIREWALL`));
  }

  const endpointCtx = { nat: natChains, namer: out.namer, omitComments: config.omitEndpointComments };
  if (usesClusterPolicyChain) {
    natChains.declareChain(names.svc);
    out.activeChains.add(names.svc);
    writePolicyChainRules(endpointCtx, port, names.svc, endpoints.cluster);
  }
  if (usesLocalPolicyChain) {
    natChains.declareChain(names.svl);
    out.activeChains.add(names.svl);
    writePolicyChainRules(endpointCtx, port, names.svl, endpoints.local);
  }
  for (const sep of writeEndpointChains(endpointCtx, port, endpoints.allReachable)) out.activeChains.add(sep);
}
