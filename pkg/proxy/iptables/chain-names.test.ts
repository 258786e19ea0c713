import { describe, expect, it } from "vitest";
import { servicePortsForFamily } from "../service-ports.ts";
import { makeService } from "../testing/model-builders.ts";
import { base32, ChainNamer, endpointChainName, isServiceChainName, portProtoHash, serviceChainNames } from "./chain-names.ts";
import { probability } from "./render-endpoints.ts";

describe("chain names", () => {
  // Values from kube-proxy's own tests, so that operators see the same names.
  it("hashes Service ports like kube-proxy", () => {
    expect(serviceChainNames("ns1/svc1:p80", "TCP")).toEqual({
      svc: "KUBE-SVC-XPGD46QRK7WJZT7O",
      svl: "KUBE-SVL-XPGD46QRK7WJZT7O",
      ext: "KUBE-EXT-XPGD46QRK7WJZT7O",
      fw: "KUBE-FW-XPGD46QRK7WJZT7O",
    });
    expect(portProtoHash("ns2/svc2:p80", "TCP")).toBe("GNZBNJ2PO5MGZ6GT");
  });

  it("hashes endpoints like kube-proxy", () => {
    expect(endpointChainName("ns1/svc1:p80", "TCP", "10.180.0.1:80")).toBe("KUBE-SEP-SXIVWICOYRO3J4NJ");
    expect(endpointChainName("ns4/svc4:p80", "TCP", "10.180.0.5:80")).toBe("KUBE-SEP-C6EBXVWJJZMIWKLZ");
  });

  it("gives the same port different chains per protocol", () => {
    expect(portProtoHash("ns/dns:dns", "TCP")).not.toBe(portProtoHash("ns/dns:dns", "UDP"));
  });

  it("encodes base32 with padding, as RFC 4648", () => {
    const enc = (s: string) => base32(new TextEncoder().encode(s));
    expect(enc("")).toBe("");
    expect(enc("f")).toBe("MY======");
    expect(enc("fo")).toBe("MZXQ====");
    expect(enc("foob")).toBe("MZXW6YQ=");
    expect(enc("foobar")).toBe("MZXW6YTBOI======");
  });

  it("recognises only per-Service chains as deletable", () => {
    expect(isServiceChainName("KUBE-SEP-SXIVWICOYRO3J4NJ")).toBe(true);
    expect(isServiceChainName("KUBE-FW-NUKIZ6OKUXPJNT4C")).toBe(true);
    expect(isServiceChainName("KUBE-SERVICES")).toBe(false);
    expect(isServiceChainName("KUBE-SVC-short")).toBe(false);
    expect(isServiceChainName("KUBE-MARK-MASQ")).toBe(false);
  });

  it("caches names per Service port without changing them", () => {
    const [port] = servicePortsForFamily(makeService("ns1", "svc1"), "IPv4");
    if (port === undefined) throw new Error("no port");
    const namer = new ChainNamer();
    expect(namer.service(port).svc).toBe("KUBE-SVC-XPGD46QRK7WJZT7O");
    expect(namer.service(port)).toBe(namer.service(port));
    expect(namer.endpoint(port, "10.180.0.1:80")).toBe("KUBE-SEP-SXIVWICOYRO3J4NJ");
  });
});

describe("probability", () => {
  it("prints 1/n with ten decimals, as kube-proxy's %0.10f", () => {
    expect(probability(2)).toBe("0.5000000000");
    expect(probability(3)).toBe("0.3333333333");
    expect(probability(6)).toBe("0.1666666667");
    expect(probability(7)).toBe("0.1428571429");
    expect(probability(1000)).toBe("0.0010000000");
  });
});
