import type { V1Node } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { convertNode } from "./convert-node.ts";
import { editedFixture, expectInvalid, loadFixture, sharedReferences, unfrozenPaths } from "./testdata/fixtures.ts";

const file = "node.json";
const edited = (edit: (node: V1Node) => void): V1Node => editedFixture<V1Node>(file, edit);

describe("convertNode", () => {
  it("keeps name, addresses, labels, pod CIDRs and zone of a registered Node", () => {
    expect(convertNode(loadFixture<V1Node>(file))).toEqual({
      name: "node-a",
      addresses: [
        { type: "InternalIP", address: "172.18.0.3" },
        { type: "InternalIP", address: "fc00:f853:ccd:e793::3" },
        { type: "Hostname", address: "node-a" },
      ],
      labels: {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": "node-a",
        "kubernetes.io/os": "linux",
        "node-role.kubernetes.io/worker": "",
        "topology.kubernetes.io/region": "region-1",
        "topology.kubernetes.io/zone": "zone-a",
      },
      podCIDRs: ["10.244.1.0/24", "fd00:10:244:1::/64"],
      zone: "zone-a",
      deleting: false,
      taints: [],
    });
  });

  it("tells a Node being deleted, and keeps its taints", () => {
    const node = convertNode(
      edited((n) => {
        n.metadata = { ...n.metadata, deletionTimestamp: new Date("2024-01-02T03:04:05Z") };
        n.spec = { ...n.spec, taints: [{ key: "ToBeDeletedByClusterAutoscaler", value: "1718000000", effect: "NoSchedule" }, { key: "dedicated", effect: "NoExecute" }] };
      }),
    );
    expect(node.deleting).toBe(true);
    expect(node.taints).toEqual([
      { key: "ToBeDeletedByClusterAutoscaler", value: "1718000000", effect: "NoSchedule" },
      { key: "dedicated", value: "", effect: "NoExecute" },
    ]);
  });

  it("refuses a taint without a key, naming it", () => {
    expectInvalid(() => convertNode(edited((n) => (n.spec = { ...n.spec, taints: [{ key: "", effect: "NoSchedule" }] }))), "Node node-a: spec.taints[0].key", "is missing or empty");
  });

  it("falls back to spec.podCIDR, and to nothing", () => {
    const single = convertNode(edited((n) => n.spec && delete n.spec.podCIDRs));
    expect(single.podCIDRs).toEqual(["10.244.1.0/24"]);
    const none = convertNode(edited((n) => delete n.spec));
    expect(none.podCIDRs).toEqual([]);
  });

  it("has no zone and no labels when the Node has none", () => {
    const node = convertNode(edited((n) => n.metadata && delete n.metadata.labels));
    expect(node).toMatchObject({ labels: {}, zone: "" });
  });

  it("drops address types it does not know, keeping the rest", () => {
    const node = convertNode(
      edited((n) => {
        n.status = { addresses: [{ type: "VirtualIP", address: "x" }, { type: "ExternalIP", address: "198.51.100.3" }] };
      }),
    );
    expect(node.addresses).toEqual([{ type: "ExternalIP", address: "198.51.100.3" }]);
  });

  const cases: Array<[string, (n: V1Node) => void, string, string]> = [
    ["no name", (n) => n.metadata && delete n.metadata.name, "Node <no name>: metadata.name", "missing"],
    ["no metadata", (n) => delete n.metadata, "Node <no name>: metadata", "is missing"],
    ["InternalIP not an IP", (n) => { const a = n.status?.addresses?.[1]; if (a) a.address = "node-a.internal"; }, "Node node-a: status.addresses[1].address", '"node-a.internal" is not an IP address, but its type is InternalIP'],
    ["empty Hostname", (n) => { const a = n.status?.addresses?.[2]; if (a) a.address = ""; }, "Node node-a: status.addresses[2].address", "is empty for type Hostname"],
    ["bad pod CIDR", (n) => n.spec && (n.spec.podCIDRs = ["10.244.1.0/24", "fd00:10:244:1::/129"]), "Node node-a: spec.podCIDRs[1]", '"fd00:10:244:1::/129" is not a CIDR'],
    ["bad single pod CIDR", (n) => { if (n.spec) { delete n.spec.podCIDRs; n.spec.podCIDR = "10.244.1.0"; } }, "Node node-a: spec.podCIDR", '"10.244.1.0" is not a CIDR'],
  ];

  it.each(cases)("refuses %s, naming the field", (_case, edit, where, says) => {
    expectInvalid(() => convertNode(edited(edit)), where, says);
  });

  it("keeps nothing of the API object", () => {
    const input = loadFixture<V1Node>(file);
    const node = convertNode(input);
    expect(sharedReferences(input, node)).toEqual([]);
    expect(unfrozenPaths(node)).toEqual([]);
    const before = structuredClone(node);
    if (input.metadata?.labels) input.metadata.labels["topology.kubernetes.io/zone"] = "zone-z";
    input.spec?.podCIDRs?.pop();
    input.status?.addresses?.splice(0);
    expect(node).toEqual(before);
  });
});
