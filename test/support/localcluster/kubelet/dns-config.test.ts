import { describe, expect, it } from "vitest";
import { podResolvConf } from "./dns-config.ts";

const s = { clusterDNS: ["10.96.0.10"], clusterDomain: "cluster.local", nodeResolvConf: "nameserver 172.30.0.1\nsearch lan\n" };

describe("podResolvConf", () => {
  it("gives ClusterFirst pods the cluster DNS, the search path and ndots:5", () => {
    expect(podResolvConf("default", {}, s)).toBe(
      "nameserver 10.96.0.10\nsearch default.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n",
    );
  });

  it("gives hostNetwork pods with ClusterFirst the node's resolv.conf, as the kubelet does", () => {
    expect(podResolvConf("kube-system", { hostNetwork: true }, s)).toBe("nameserver 172.30.0.1\nsearch lan\n");
  });

  it("gives ClusterFirstWithHostNet the cluster DNS even on the host network", () => {
    expect(podResolvConf("kube-system", { hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" }, s)).toContain("nameserver 10.96.0.10");
  });

  it("gives Default the node's resolv.conf", () => {
    expect(podResolvConf("kube-system", { dnsPolicy: "Default" }, s)).toBe("nameserver 172.30.0.1\nsearch lan\n");
  });

  it("applies dnsConfig, overriding an option of the same name", () => {
    const out = podResolvConf("a", { dnsPolicy: "None", dnsConfig: { nameservers: ["1.2.3.4"], searches: ["x.test"], options: [{ name: "ndots", value: "2" }] } }, s);
    expect(out).toBe("nameserver 1.2.3.4\nsearch x.test\noptions ndots:2\n");
    const merged = podResolvConf("a", { dnsConfig: { options: [{ name: "ndots", value: "1" }, { name: "edns0" }] } }, s);
    expect(merged).toContain("options ndots:1 edns0");
  });
});
