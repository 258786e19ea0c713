import type { V1Endpoint, V1EndpointSlice } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { convertEndpointSlice } from "./convert-endpointslice.ts";
import { editedFixture, expectInvalid, loadFixture, sharedReferences, unfrozenPaths } from "./testdata/fixtures.ts";

const web = "endpointslice-web.json";
const edited = (edit: (slice: V1EndpointSlice) => void): V1EndpointSlice => editedFixture<V1EndpointSlice>(web, edit);
const endpointOf = (slice: V1EndpointSlice, i: number): V1Endpoint => {
  const endpoint = slice.endpoints?.[i];
  if (endpoint === undefined) throw new Error(`fixture has no endpoint ${i}`);
  return endpoint;
};

describe("convertEndpointSlice on a slice from the endpointslice controller", () => {
  it("keeps ports, conditions, topology, hints and the Pod name", () => {
    expect(convertEndpointSlice(loadFixture<V1EndpointSlice>(web))).toEqual({
      namespace: "default",
      name: "web-8tzmh",
      serviceName: "web",
      addressType: "IPv4",
      ports: [
        { name: "http", protocol: "TCP", port: 8080 },
        { name: "https", protocol: "TCP", port: 8443 },
        { name: "dns", protocol: "UDP", port: 5353 },
      ],
      endpoints: [
        {
          addresses: ["10.244.1.17"],
          ready: true,
          serving: true,
          terminating: false,
          hostname: "",
          nodeName: "node-a",
          zone: "zone-a",
          hints: { forZones: ["zone-a"], forNodes: [] },
          podName: "web-7c9d8f6b5d-x2k9q",
        },
        {
          addresses: ["10.244.2.31"],
          ready: false,
          serving: true,
          terminating: true,
          hostname: "",
          nodeName: "node-b",
          zone: "zone-b",
          hints: { forZones: ["zone-b"], forNodes: [] },
          podName: "web-7c9d8f6b5d-7fmwp",
        },
        {
          addresses: ["10.244.2.45"],
          ready: false,
          serving: false,
          terminating: false,
          hostname: "",
          nodeName: "node-b",
          zone: "zone-b",
          hints: { forZones: ["zone-b"], forNodes: [] },
          podName: "web-7c9d8f6b5d-qq4tn",
        },
      ],
    });
  });

  it("keeps node hints and hostnames", () => {
    const slice = convertEndpointSlice(
      edited((s) => {
        const endpoint = endpointOf(s, 0);
        endpoint.hints = { forNodes: [{ name: "node-a" }] };
        endpoint.hostname = "web-0";
      }),
    );
    expect(slice.endpoints[0]).toMatchObject({ hostname: "web-0", hints: { forZones: [], forNodes: ["node-a"] } });
  });
});

describe("convertEndpointSlice applies the API defaults", () => {
  it("reads unset conditions as ready, serving like ready, not terminating", () => {
    const slice = convertEndpointSlice(
      edited((s) => {
        delete endpointOf(s, 0).conditions;
        endpointOf(s, 1).conditions = { ready: false };
        endpointOf(s, 2).conditions = {};
      }),
    );
    expect(slice.endpoints.map((e) => [e.ready, e.serving, e.terminating])).toEqual([
      [true, true, false],
      [false, false, false],
      [true, true, false],
    ]);
  });

  it("defaults a port's protocol to TCP and its name to empty, and skips ports without a number", () => {
    const slice = convertEndpointSlice(
      edited((s) => {
        s.ports = [{ port: 8080 }, { name: "all" }, { name: "dns", port: 5353, protocol: "UDP" }];
      }),
    );
    expect(slice.ports).toEqual([
      { name: "", protocol: "TCP", port: 8080 },
      { name: "dns", protocol: "UDP", port: 5353 },
    ]);
  });

  it("leaves unset topology, hints and target empty", () => {
    const slice = convertEndpointSlice(
      edited((s) => {
        s.endpoints = [{ addresses: ["10.244.3.9"] }, { addresses: ["10.244.3.10"], hints: { forZones: [] } }];
      }),
    );
    for (const endpoint of slice.endpoints) {
      expect(endpoint).toMatchObject({ hostname: "", nodeName: "", zone: "", hints: null, podName: "" });
    }
  });

  it("gives no Pod name when the target is not a Pod", () => {
    const slice = convertEndpointSlice(
      edited((s) => {
        endpointOf(s, 0).targetRef = { kind: "Node", name: "node-a" };
      }),
    );
    expect(slice.endpoints[0]?.podName).toBe("");
  });

  it("has no serviceName when the label is missing, and no endpoints or ports when unset", () => {
    const slice = convertEndpointSlice(
      edited((s) => {
        if (s.metadata) s.metadata.labels = {};
        delete s.endpoints;
        delete s.ports;
      }),
    );
    expect(slice).toMatchObject({ serviceName: "", endpoints: [], ports: [] });
  });

  it("accepts IPv6 and FQDN slices", () => {
    const v6 = convertEndpointSlice(
      edited((s) => {
        s.addressType = "IPv6";
        s.endpoints = [{ addresses: ["fd00:10:244:1::11"] }];
      }),
    );
    expect(v6.endpoints[0]?.addresses).toEqual(["fd00:10:244:1::11"]);
    const fqdn = convertEndpointSlice(
      edited((s) => {
        s.addressType = "FQDN";
        s.endpoints = [{ addresses: ["db.example.com"] }];
      }),
    );
    expect(fqdn).toMatchObject({ addressType: "FQDN", endpoints: [{ addresses: ["db.example.com"] }] });
  });
});

describe("convertEndpointSlice refuses malformed slices, naming the field", () => {
  const subject = "EndpointSlice default/web-8tzmh";
  const cases: Array<[string, (s: V1EndpointSlice) => void, string, string]> = [
    ["no name", (s) => delete s.metadata?.name, "EndpointSlice default/<no name>: metadata.name", "missing"],
    ["no namespace", (s) => delete s.metadata?.namespace, "EndpointSlice <no namespace>/web-8tzmh: metadata.namespace", "missing"],
    ["unknown address type", (s) => (s.addressType = "IP"), `${subject}: addressType`, '"IP" is not one of IPv4, IPv6, FQDN'],
    ["port 0", (s) => { const p = s.ports?.[1]; if (p) p.port = 0; }, `${subject}: ports[1].port`, "0 is outside 1..65535"],
    ["port 65536", (s) => { const p = s.ports?.[2]; if (p) p.port = 65536; }, `${subject}: ports[2].port`, "65536 is outside 1..65535"],
    ["unknown protocol", (s) => { const p = s.ports?.[0]; if (p) p.protocol = "QUIC"; }, `${subject}: ports[0].protocol`, '"QUIC" is not one of TCP, UDP, SCTP'],
    ["no addresses", (s) => (endpointOf(s, 2).addresses = []), `${subject}: endpoints[2].addresses`, "is empty"],
    ["IPv6 address in an IPv4 slice", (s) => (endpointOf(s, 1).addresses = ["fd00::1"]), `${subject}: endpoints[1].addresses[0]`, '"fd00::1" is not a valid address for addressType IPv4'],
    ["malformed IPv4 address", (s) => (endpointOf(s, 0).addresses = ["10.244.1.256"]), `${subject}: endpoints[0].addresses[0]`, '"10.244.1.256" is not a valid address'],
  ];

  it.each(cases)("%s", (_case, edit, where, says) => {
    expectInvalid(() => convertEndpointSlice(edited(edit)), where, says);
  });
});

describe("convertEndpointSlice keeps nothing of the API object", () => {
  it("shares no object or array with the input, and is frozen", () => {
    const input = loadFixture<V1EndpointSlice>(web);
    const slice = convertEndpointSlice(input);
    expect(sharedReferences(input, slice)).toEqual([]);
    expect(unfrozenPaths(slice)).toEqual([]);
  });

  it("does not change when the input is mutated afterwards", () => {
    const input = loadFixture<V1EndpointSlice>(web);
    const slice = convertEndpointSlice(input);
    const before = structuredClone(slice);
    const endpoint = endpointOf(input, 0);
    endpoint.addresses.push("10.244.1.18");
    endpoint.hints?.forZones?.push({ name: "zone-c" });
    if (endpoint.conditions) endpoint.conditions.ready = false;
    input.ports?.pop();
    input.endpoints?.pop();
    expect(slice).toEqual(before);
  });
});
