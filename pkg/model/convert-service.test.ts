import type { V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { convertService } from "./convert-service.ts";
import { editedFixture, expectInvalid, loadFixture, sharedReferences, unfrozenPaths } from "./testdata/fixtures.ts";

const clusterIP = "service-clusterip-multiport.json";
const dualStack = "service-dual-stack.json";
const headless = "service-headless.json";
const nodePort = "service-nodeport.json";
const loadBalancer = "service-loadbalancer-local.json";
const externalName = "service-externalname.json";

const edited = (file: string, edit: (service: V1Service) => void): V1Service => editedFixture<V1Service>(file, edit);
/** The spec of a fixture, which every fixture has; keeps the edits below free of `!`. */
const specOf = (service: V1Service): NonNullable<V1Service["spec"]> => {
  if (service.spec === undefined) throw new Error("fixture has no spec");
  return service.spec;
};
const portsOf = (service: V1Service): NonNullable<NonNullable<V1Service["spec"]>["ports"]> => specOf(service).ports ?? [];

describe("convertService on objects as the API server returns them", () => {
  it("converts a multi-port ClusterIP Service", () => {
    expect(convertService(loadFixture<V1Service>(clusterIP))).toEqual({
      namespace: "default",
      name: "web",
      type: "ClusterIP",
      clusterIPs: ["10.96.145.27"],
      headless: false,
      ipFamilies: ["IPv4"],
      externalName: "",
      ports: [
        { name: "http", protocol: "TCP", port: 80, nodePort: 0 },
        { name: "https", protocol: "TCP", port: 443, nodePort: 0 },
        { name: "dns", protocol: "UDP", port: 53, nodePort: 0 },
      ],
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
      createdAtMs: Date.parse("2025-11-03T09:14:27Z"),
    });
  });

  it("reads the creation time from raw JSON text or a Date, and 0 when there is none", () => {
    const raw = loadFixture<V1Service>(clusterIP);
    const asDate = { ...raw, metadata: { ...raw.metadata, creationTimestamp: new Date("2025-11-03T09:14:27Z") } };
    const without = { ...raw, metadata: { ...raw.metadata, creationTimestamp: undefined } };
    expect([asDate, without].map((s) => convertService(s).createdAtMs)).toEqual([Date.parse("2025-11-03T09:14:27Z"), 0]);
  });

  it("keeps both families of a dual-stack Service, primary first", () => {
    const service = convertService(loadFixture<V1Service>(dualStack));
    expect(service.clusterIPs).toEqual(["10.96.200.8", "fd00:10:96::c8a1"]);
    expect(service.ipFamilies).toEqual(["IPv4", "IPv6"]);
    expect(service.internalTrafficPolicy).toBe("Local");
    expect(service.sessionAffinity).toEqual({ kind: "ClientIP", timeoutSeconds: 10800 });
    expect(service.trafficDistribution).toBe("PreferClose");
    expect(service.ports).toEqual([{ name: "", protocol: "TCP", port: 8080, nodePort: 0 }]);
  });

  it("marks a headless Service and publishes not-ready addresses", () => {
    const service = convertService(loadFixture<V1Service>(headless));
    expect(service.headless).toBe(true);
    expect(service.clusterIPs).toEqual([]);
    expect(service.publishNotReadyAddresses).toBe(true);
    expect(service.ports).toEqual([{ name: "postgres", protocol: "TCP", port: 5432, nodePort: 0 }]);
  });

  it("keeps node ports and external IPs of a NodePort Service", () => {
    const service = convertService(loadFixture<V1Service>(nodePort));
    expect(service.type).toBe("NodePort");
    expect(service.ports.map((p) => [p.name, p.port, p.nodePort])).toEqual([
      ["http", 80, 30080],
      ["metrics", 9100, 31901],
    ]);
    expect(service.externalIPs).toEqual(["192.0.2.10"]);
    expect(service.healthCheckNodePort).toBe(0);
  });

  it("converts a LoadBalancer with externalTrafficPolicy Local", () => {
    const service = convertService(loadFixture<V1Service>(loadBalancer));
    expect(service.type).toBe("LoadBalancer");
    expect(service.externalTrafficPolicy).toBe("Local");
    expect(service.healthCheckNodePort).toBe(32119);
    expect(service.loadBalancerSourceRanges).toEqual(["203.0.113.0/24", "198.51.100.7/32"]);
    // 192.0.2.51 has ipMode Proxy, and the last ingress point has only a host name.
    expect(service.loadBalancerIPs).toEqual(["192.0.2.50"]);
    expect(service.ports.map((p) => p.nodePort)).toEqual([30480, 30443]);
  });

  it("lower-cases the target of an ExternalName Service and gives it no cluster IPs", () => {
    const service = convertService(loadFixture<V1Service>(externalName));
    expect(service.type).toBe("ExternalName");
    expect(service.externalName).toBe("billing.db.example.com");
    expect(service.clusterIPs).toEqual([]);
    expect(service.headless).toBe(false);
    expect(service.ipFamilies).toEqual([]);
    expect(service.internalTrafficPolicy).toBe("Cluster");
  });

  it("reads service.kubernetes.io/service-proxy-name", () => {
    const service = convertService(
      edited(clusterIP, (s) => {
        s.metadata = { ...s.metadata, labels: { "service.kubernetes.io/service-proxy-name": "other-proxy" } };
      }),
    );
    expect(service.serviceProxyName).toBe("other-proxy");
  });
});

describe("convertService applies the API defaults", () => {
  const minimal = (): V1Service => ({
    metadata: { namespace: "default", name: "bare" },
    spec: { clusterIP: "10.96.0.40", ports: [{ port: 80 }] },
  });

  it("defaults type, protocol, port name, node port, policies, affinity and families", () => {
    expect(convertService(minimal())).toMatchObject({
      type: "ClusterIP",
      clusterIPs: ["10.96.0.40"],
      headless: false,
      ipFamilies: ["IPv4"],
      ports: [{ name: "", protocol: "TCP", port: 80, nodePort: 0 }],
      externalTrafficPolicy: "Cluster",
      internalTrafficPolicy: "Cluster",
      sessionAffinity: { kind: "None" },
      publishNotReadyAddresses: false,
      trafficDistribution: "",
      healthCheckNodePort: 0,
    });
  });

  it("falls back from clusterIPs to clusterIP, and derives the families of either", () => {
    const v6 = minimal();
    specOf(v6).clusterIP = "fd00:10:96::a";
    expect(convertService(v6)).toMatchObject({ clusterIPs: ["fd00:10:96::a"], ipFamilies: ["IPv6"] });
    const noIP = minimal();
    delete specOf(noIP).clusterIP;
    expect(convertService(noIP)).toMatchObject({ clusterIPs: [], headless: false, ipFamilies: [] });
  });

  it('treats clusterIP "None" without clusterIPs as headless', () => {
    const service = minimal();
    specOf(service).clusterIP = "None";
    expect(convertService(service)).toMatchObject({ clusterIPs: [], headless: true });
  });

  it("gives ClientIP affinity the 10800 s timeout when no config is set", () => {
    const service = minimal();
    specOf(service).sessionAffinity = "ClientIP";
    expect(convertService(service).sessionAffinity).toEqual({ kind: "ClientIP", timeoutSeconds: 10800 });
  });

  it("ignores healthCheckNodePort unless LoadBalancer with policy Local", () => {
    const cluster = edited(loadBalancer, (s) => {
      specOf(s).externalTrafficPolicy = "Cluster";
    });
    expect(convertService(cluster).healthCheckNodePort).toBe(0);
    const asNodePort = edited(loadBalancer, (s) => {
      specOf(s).type = "NodePort";
    });
    expect(convertService(asNodePort).healthCheckNodePort).toBe(0);
  });

  it("trims spaces around source ranges, as the API server does", () => {
    const service = edited(loadBalancer, (s) => {
      specOf(s).loadBalancerSourceRanges = [" 203.0.113.0/24 "];
    });
    expect(convertService(service).loadBalancerSourceRanges).toEqual(["203.0.113.0/24"]);
  });
});

describe("convertService refuses malformed Services, naming the field", () => {
  const cases: Array<[string, string, (s: V1Service) => void, string, string]> = [
    [clusterIP, "no metadata", (s) => delete s.metadata, "Service <no namespace>/<no name>: metadata", "is missing"],
    [clusterIP, "no name", (s) => delete s.metadata?.name, "Service default/<no name>: metadata.name", "missing"],
    [clusterIP, "no namespace", (s) => delete s.metadata?.namespace, "Service <no namespace>/web: metadata.namespace", "missing"],
    [clusterIP, "no spec", (s) => delete s.spec, "Service default/web: spec", "is missing"],
    [clusterIP, "unknown type", (s) => (specOf(s).type = "Balanced"), "Service default/web: spec.type", '"Balanced" is not one of'],
    [dualStack, "non-IP cluster IP", (s) => (specOf(s).clusterIPs = ["10.96.200.8", "fd00::zz"]), "Service apps/echo: spec.clusterIPs[1]", '"fd00::zz" is neither an IP address nor "None"'],
    [clusterIP, "non-IP clusterIP", (s) => { delete specOf(s).clusterIPs; specOf(s).clusterIP = "10.96.0.300"; }, "Service default/web: spec.clusterIP", '"10.96.0.300" is neither'],
    [headless, "None among IPs", (s) => (specOf(s).clusterIPs = ["None", "10.96.0.9"]), "Service data/db: spec.clusterIPs[1]", 'follows "None"'],
    [dualStack, "unknown IP family", (s) => (specOf(s).ipFamilies = ["IPv4", "IPv5"]), "Service apps/echo: spec.ipFamilies[1]", '"IPv5" is not IPv4 or IPv6'],
    [externalName, "empty externalName", (s) => (specOf(s).externalName = ""), "Service default/billing-db: spec.externalName", "is empty"],
    [clusterIP, "port 0", (s) => { const p = portsOf(s)[1]; if (p) p.port = 0; }, "Service default/web: spec.ports[1].port", "0 is outside 1..65535"],
    [clusterIP, "port 65536", (s) => { const p = portsOf(s)[1]; if (p) p.port = 65536; }, "Service default/web: spec.ports[1].port", "65536 is outside 1..65535"],
    [clusterIP, "fractional port", (s) => { const p = portsOf(s)[2]; if (p) p.port = 53.5; }, "Service default/web: spec.ports[2].port", "53.5 is outside"],
    [clusterIP, "unknown protocol", (s) => { const p = portsOf(s)[0]; if (p) p.protocol = "HTTP"; }, "Service default/web: spec.ports[0].protocol", '"HTTP" is not one of TCP, UDP, SCTP'],
    [nodePort, "node port out of range", (s) => { const p = portsOf(s)[1]; if (p) p.nodePort = 70000; }, "Service default/shop: spec.ports[1].nodePort", "70000 is outside 1..65535"],
    [nodePort, "negative node port", (s) => { const p = portsOf(s)[0]; if (p) p.nodePort = -1; }, "Service default/shop: spec.ports[0].nodePort", "-1 is outside"],
    [nodePort, "non-IP external IP", (s) => (specOf(s).externalIPs = ["shop.example.com"]), "Service default/shop: spec.externalIPs[0]", '"shop.example.com" is not an IP address'],
    [loadBalancer, "non-IP ingress IP", (s) => { const i = s.status?.loadBalancer?.ingress?.[0]; if (i) i.ip = "192.0.2"; }, "Service ingress-system/ingress: status.loadBalancer.ingress[0].ip", '"192.0.2" is not an IP address'],
    [loadBalancer, "prefix too long", (s) => (specOf(s).loadBalancerSourceRanges = ["203.0.113.0/24", "203.0.113.0/33"]), "Service ingress-system/ingress: spec.loadBalancerSourceRanges[1]", '"203.0.113.0/33" is not a CIDR'],
    [loadBalancer, "range without prefix", (s) => (specOf(s).loadBalancerSourceRanges = ["203.0.113.7"]), "Service ingress-system/ingress: spec.loadBalancerSourceRanges[0]", "is not a CIDR"],
    [loadBalancer, "unknown external policy", (s) => (specOf(s).externalTrafficPolicy = "Nearest"), "Service ingress-system/ingress: spec.externalTrafficPolicy", '"Nearest" is not Cluster or Local'],
    [dualStack, "unknown internal policy", (s) => (specOf(s).internalTrafficPolicy = "Zone"), "Service apps/echo: spec.internalTrafficPolicy", '"Zone" is not Cluster or Local'],
    [loadBalancer, "health check port out of range", (s) => (specOf(s).healthCheckNodePort = 65536), "Service ingress-system/ingress: spec.healthCheckNodePort", "65536 is outside 1..65535"],
    [clusterIP, "unknown affinity", (s) => (specOf(s).sessionAffinity = "Cookie"), "Service default/web: spec.sessionAffinity", '"Cookie" is not None or ClientIP'],
    [dualStack, "affinity timeout 0", (s) => (specOf(s).sessionAffinityConfig = { clientIP: { timeoutSeconds: 0 } }), "Service apps/echo: spec.sessionAffinityConfig.clientIP.timeoutSeconds", "0 is outside 1..86400"],
    [dualStack, "affinity timeout over a day", (s) => (specOf(s).sessionAffinityConfig = { clientIP: { timeoutSeconds: 86401 } }), "Service apps/echo: spec.sessionAffinityConfig.clientIP.timeoutSeconds", "86401 is outside 1..86400"],
  ];

  it.each(cases)("%s: %s", (file, _case, edit, where, says) => {
    expectInvalid(() => convertService(edited(file, edit)), where, says);
  });
});

describe("convertService keeps nothing of the API object", () => {
  const all = [clusterIP, dualStack, headless, nodePort, loadBalancer, externalName];

  it.each(all)("%s: shares no object or array with the input, and is frozen", (file) => {
    const input = loadFixture<V1Service>(file);
    const service = convertService(input);
    expect(sharedReferences(input, service)).toEqual([]);
    expect(unfrozenPaths(service)).toEqual([]);
  });

  it("does not change when the input is mutated afterwards", () => {
    const input = loadFixture<V1Service>(loadBalancer);
    const service = convertService(input);
    const before = structuredClone(service);
    const spec = specOf(input);
    spec.clusterIPs?.push("10.96.0.99");
    spec.loadBalancerSourceRanges?.splice(0, 1);
    const port = spec.ports?.[0];
    if (port) port.port = 8080;
    input.status?.loadBalancer?.ingress?.push({ ip: "192.0.2.99" });
    if (input.metadata) input.metadata.name = "renamed";
    expect(service).toEqual(before);
  });
});
