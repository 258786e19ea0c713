import { describe, expect, it } from "vitest";
import { parseKubeProxyConfig } from "./kube-proxy-config.ts";

const head = "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n";

// What kubeadm writes into the kube-proxy ConfigMap, trimmed to its shape: every field signpost
// does not implement holds its zero value, so the whole file must be accepted.
const kubeadm = `${head}bindAddress: 0.0.0.0
bindAddressHardFail: false
clientConnection:
  acceptContentTypes: ""
  burst: 0
  contentType: ""
  kubeconfig: /var/lib/kube-proxy/kubeconfig.conf
  qps: 0
clusterCIDR: 10.244.0.0/16
configSyncPeriod: 0s
conntrack:
  maxPerCore: null
  min: null
  tcpCloseWaitTimeout: null
  tcpEstablishedTimeout: null
  udpStreamTimeout: 0s
  udpTimeout: 0s
detectLocal:
  bridgeInterface: ""
  interfaceNamePrefix: ""
detectLocalMode: ""
enableProfiling: false
healthzBindAddress: ""
hostnameOverride: ""
iptables:
  localhostNodePorts: null
  masqueradeAll: false
  masqueradeBit: null
  minSyncPeriod: 1s
  syncPeriod: 0s
ipvs:
  excludeCIDRs: null
  minSyncPeriod: 0s
  scheduler: ""
  syncPeriod: 0s
logging:
  flushFrequency: 0
  verbosity: 0
metricsBindAddress: ""
mode: ""
nodePortAddresses: null
oomScoreAdj: null
portRange: ""
showHiddenMetricsForVersion: ""
winkernel:
  enableDSR: false
`;

describe("parseKubeProxyConfig", () => {
  it("accepts kubeadm's ConfigMap and reads the fields signpost implements", () => {
    const parsed = parseKubeProxyConfig(kubeadm, "kube-proxy.yaml");
    expect(parsed.values).toEqual({
      kubeconfig: "/var/lib/kube-proxy/kubeconfig.conf",
      // 0s leaves the kernel's value; nulls take kube-proxy's defaults.
      conntrack: { udpStreamTimeout: 0, udpTimeout: 0 },
      detectLocalMode: "",
      bridgeInterface: "",
      interfaceNamePrefix: "",
      hostnameOverride: "",
      clusterCIDR: "10.244.0.0/16",
      healthzBindAddress: "",
      metricsBindAddress: "",
      masqueradeAll: false,
      minSyncPeriodMs: 1000,
      bindAddressHardFail: false,
    });
    // Only what holds more than its zero value is named as ignored.
    expect(parsed.ignored).toEqual(["bindAddress: the primary IP family is taken from the Node's addresses"]);
  });

  it("reads the sync periods and node-port addresses", () => {
    const parsed = parseKubeProxyConfig(`${head}iptables:\n  syncPeriod: 1m30s\n  minSyncPeriod: 500ms\nnodePortAddresses: [192.168.0.0/24]\n`, "f");
    expect(parsed.values).toMatchObject({ syncPeriodMs: 90_000, minSyncPeriodMs: 500, nodePortAddresses: ["192.168.0.0/24"] });
  });

  it.each([
    ["conntrack:\n  maxPerCore: -1\n", "SP_BAD_CONFIG: f: conntrack.maxPerCore: must be a whole number from 0 to 2147483647, not -1"],
    ["conntrack:\n  min: 1.5\n", "SP_BAD_CONFIG: f: conntrack.min: must be a whole number"],
    ["conntrack:\n  udpTimeout: fast\n", 'SP_BAD_CONFIG: f: conntrack.udpTimeout: "fast" is not a duration'],
    ["conntrack:\n  tcpBeLiberal: 1\n", "SP_BAD_CONFIG: f: conntrack.tcpBeLiberal: must be true or false"],
    ["conntrack:\n  maxEntries: 5\n", "SP_BAD_CONFIG: f: conntrack.maxEntries: is not a field"],
    ["mode: ipvs\n", 'SP_BAD_CONFIG: f: mode: "ipvs" is not supported'],
    ["detectLocalMode: 7\n", "SP_BAD_CONFIG: f: detectLocalMode: must be a string"],
    ["iptables:\n  masqueradeBit: 15\n", "SP_BAD_CONFIG: f: iptables.masqueradeBit: 15 is not supported"],
    ["iptables:\n  syncPeriod: soon\n", 'SP_BAD_CONFIG: f: iptables.syncPeriod: "soon" is not a duration'],
    ["iptables:\n  masqueradeAl: true\n", "SP_BAD_CONFIG: f: iptables.masqueradeAl: is not a field"],
    ["nodePortAddresses: 10.0.0.0/8\n", "SP_BAD_CONFIG: f: nodePortAddresses: must be a list of CIDRs"],
    ["nodePortAddresses: [7]\n", "SP_BAD_CONFIG: f: nodePortAddresses[0]: must be a string, not 7"],
    ["clusterCIDR: 10\n", "SP_BAD_CONFIG: f: clusterCIDR: must be a string, not 10"],
    ["iptables:\n  masqueradeAll: yes please\n", 'SP_BAD_CONFIG: f: iptables.masqueradeAll: must be true or false, not "yes please"'],
    ["iptables: [1]\n", "SP_BAD_CONFIG: f: iptables: must be a mapping"],
    ["minSyncPeriod: 1y\n", 'SP_BAD_CONFIG: f: minSyncPeriod: "1y" is not a duration'],
    ["oomScoreAdj: -1001\n", "SP_BAD_CONFIG: f: oomScoreAdj: must be a whole number from -1000 to 1000, not -1001"],
    ["bindAddressHardFail: 1\n", "SP_BAD_CONFIG: f: bindAddressHardFail: must be true or false, not 1"],
    ["configSyncPeriod: often\n", 'SP_BAD_CONFIG: f: configSyncPeriod: "often" is not a duration'],
    ["detectLocal:\n  bridge: cbr0\n", "SP_BAD_CONFIG: f: detectLocal.bridge: is not a field"],
    ["hostnameOverride: [a]\n", "SP_BAD_CONFIG: f: hostnameOverride: must be a string"],
  ])("refuses %j by its path", (body, message) => {
    expect(() => parseKubeProxyConfig(`${head}${body}`, "f")).toThrow(message);
  });

  it("reads every conntrack field, timeouts in whole seconds", () => {
    const body = "conntrack:\n  maxPerCore: 65536\n  min: 262144\n  tcpEstablishedTimeout: 12h\n  tcpCloseWaitTimeout: 30m\n  tcpBeLiberal: true\n  udpTimeout: 30s\n  udpStreamTimeout: 2m0.9s\n";
    expect(parseKubeProxyConfig(`${head}${body}`, "f").values.conntrack).toEqual({
      maxPerCore: 65536,
      min: 262144,
      tcpEstablishedTimeout: 43_200,
      tcpCloseWaitTimeout: 1800,
      tcpBeLiberal: true,
      udpTimeout: 30,
      udpStreamTimeout: 120,
    });
  });

  it('accepts nodePortAddresses ["primary"] and treats a sync period of 0s as the default', () => {
    expect(parseKubeProxyConfig(`${head}nodePortAddresses: [primary]\nsyncPeriod: 0s\n`, "f").values).toEqual({ nodePortAddresses: ["primary"] });
  });

  it("starts with every field kube-proxy knows set, and names each one it ignores with why", () => {
    const everything = `${head}bindAddress: 10.0.0.1
portRange: 30000-32767
enableProfiling: true
featureGates:
  SomeGate: true
showHiddenMetricsForVersion: "1.35"
windowsRunAsService: true
logging:
  format: json
  verbosity: 4
ipvs:
  scheduler: rr
nftables:
  syncPeriod: 10s
winkernel:
  enableDSR: true
clientConnection:
  qps: 50
  burst: 100
  contentType: application/vnd.kubernetes.protobuf
`;
    const ignored = parseKubeProxyConfig(everything, "f").ignored.map((line) => line.split(":")[0]);
    expect(ignored.sort()).toEqual(
      ["bindAddress", "portRange", "enableProfiling", "featureGates", "showHiddenMetricsForVersion", "windowsRunAsService", "logging", "ipvs", "nftables", "winkernel", "clientConnection.qps", "clientConnection.burst", "clientConnection.contentType"].sort(),
    );
  });

  it("reads the OOM score, the bind hard-fail switch and the config sync period", () => {
    expect(parseKubeProxyConfig(`${head}oomScoreAdj: -500\nbindAddressHardFail: true\nconfigSyncPeriod: 5m\n`, "f").values).toEqual({
      oomScoreAdj: -500,
      bindAddressHardFail: true,
      configSyncPeriodMs: 300_000,
    });
  });

  it("refuses a file of another kind or version, naming the one version kube-proxy v1.36 reads", () => {
    expect(() => parseKubeProxyConfig("apiVersion: kubeproxy.config.k8s.io/v1alpha2\nkind: KubeProxyConfiguration\n", "f")).toThrow(
      'SP_BAD_CONFIG: f: apiVersion: must be kubeproxy.config.k8s.io/v1alpha1, the only version kube-proxy v1.36 reads, not "kubeproxy.config.k8s.io/v1alpha2"',
    );
    expect(() => parseKubeProxyConfig("apiVersion: v1\nkind: ConfigMap\n", "f")).toThrow("SP_BAD_CONFIG: f: kind: must be KubeProxyConfiguration");
    expect(() => parseKubeProxyConfig("apiVersion: kubeproxy.config.k8s.io/v1beta1\nkind: KubeProxyConfiguration\n", "f")).toThrow("f: apiVersion");
    expect(() => parseKubeProxyConfig("{", "f")).toThrow("SP_BAD_CONFIG: f: not YAML or JSON");
  });
});
