// A model Service holding only what the API server defaults, for tests' builders to start from:
// no cluster IPs, no ports, Cluster policies, no affinity.
import type { Service } from "../types.ts";

export function serviceDefaults(namespace: string, name: string): Service {
  return {
    namespace,
    name,
    type: "ClusterIP",
    clusterIPs: [],
    headless: false,
    ipFamilies: ["IPv4"],
    externalName: "",
    ports: [],
    externalIPs: [],
    loadBalancerIPs: [],
    loadBalancerSourceRanges: [],
    externalTrafficPolicy: "Cluster",
    internalTrafficPolicy: "Cluster",
    healthCheckNodePort: 0,
    sessionAffinity: { kind: "None" },
    publishNotReadyAddresses: false,
    trafficDistribution: "",
    serviceProxyName: "",
    createdAtMs: 0,
  };
}
