import { describe, expect, it } from "vitest";
import type { Node } from "../model/types.ts";
import { defaultProxySettings, localDetectorFor, type DetectLocal } from "./proxy-settings.ts";

const node: Node = { name: "n1", addresses: [], labels: {}, podCIDRs: ["10.244.1.0/24", "fd00:244:1::/64"], zone: "", deleting: false, taints: [] };
const settings = (detectLocal: Partial<DetectLocal>, clusterCIDRs: readonly string[] = ["10.244.0.0/16"]) => ({
  ...defaultProxySettings,
  clusterCIDRs,
  detectLocal: { ...defaultProxySettings.detectLocal, ...detectLocal },
});

describe("localDetectorFor: kube-proxy's detect-local modes", () => {
  it("ClusterCIDR: the cluster CIDR of the family, none without one", () => {
    expect(localDetectorFor(settings({}), "IPv4", node)).toEqual({ ifLocal: ["-s", "10.244.0.0/16"], ifNotLocal: ["!", "-s", "10.244.0.0/16"] });
    expect(localDetectorFor(settings({}), "IPv6", node)).toBeNull();
  });

  it("NodeCIDR: the Node's pod CIDR of the family, none until the Node has one", () => {
    expect(localDetectorFor(settings({ mode: "NodeCIDR" }), "IPv6", node)).toEqual({ ifLocal: ["-s", "fd00:244:1::/64"], ifNotLocal: ["!", "-s", "fd00:244:1::/64"] });
    expect(localDetectorFor(settings({ mode: "NodeCIDR" }), "IPv4", { ...node, podCIDRs: [] })).toBeNull();
    expect(localDetectorFor(settings({ mode: "NodeCIDR" }), "IPv4", null)).toBeNull();
  });

  it("BridgeInterface and InterfaceNamePrefix: the interface a packet arrives on, in both families", () => {
    expect(localDetectorFor(settings({ mode: "BridgeInterface", bridgeInterface: "cbr0" }), "IPv6", node)).toEqual({ ifLocal: ["-i", "cbr0"], ifNotLocal: ["!", "-i", "cbr0"] });
    expect(localDetectorFor(settings({ mode: "InterfaceNamePrefix", interfaceNamePrefix: "veth" }, []), "IPv4", null)).toEqual({ ifLocal: ["-i", "veth+"], ifNotLocal: ["!", "-i", "veth+"] });
  });
});
