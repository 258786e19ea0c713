import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseFlags } from "../../cli/flags.ts";
import { daemonFlags, resolveDaemonOptions, resolveRuleSettings, ruleFlags } from "./proxy-options.ts";

const dir = mkdtempSync(join(tmpdir(), "signpost-proxy-options-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const config = join(dir, "config.yaml");
writeFileSync(
  config,
  "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.244.0.0/16\nhostnameOverride: Node-From-Config\niptables:\n  masqueradeAll: true\n  syncPeriod: 10s\nhealthzBindAddress: 127.0.0.1:20256\n",
);

const daemon = (argv: string[]) => resolveDaemonOptions(parseFlags(argv, daemonFlags).values);

describe("resolveDaemonOptions", () => {
  it("uses kube-proxy's defaults", () => {
    const o = daemon(["--hostname-override", "n1"]);
    expect(o).toMatchObject({
      nodeName: "n1",
      minSyncPeriodMs: 1000,
      syncPeriodMs: 30_000,
      healthzBindAddress: "0.0.0.0:10256",
      metricsBindAddress: "127.0.0.1:10249",
      cleanup: false,
      iptablesNetns: null,
      settings: { clusterCIDRs: [], masqueradeAll: false, nodePortAddresses: [], localhostNodePorts: true },
    });
  });

  it("reads the config file, and a flag given on the command line wins", () => {
    const o = daemon(["--config", config, "--sync-period", "2s", "--cluster-cidr", "10.0.0.0/8,fd00::/48"]);
    expect(o).toMatchObject({
      nodeName: "node-from-config",
      syncPeriodMs: 2000,
      healthzBindAddress: "127.0.0.1:20256",
      settings: { clusterCIDRs: ["10.0.0.0/8", "fd00::/48"], masqueradeAll: true },
    });
  });

  it("takes the conntrack settings from the flags over the file over kube-proxy's defaults", () => {
    expect(daemon(["--hostname-override", "n1"]).conntrack).toEqual({
      maxPerCore: 32768, min: 131072, tcpEstablishedTimeout: 86_400, tcpCloseWaitTimeout: 3600, tcpBeLiberal: false, udpTimeout: 0, udpStreamTimeout: 0,
    });
    const file = join(dir, "conntrack.yaml");
    writeFileSync(file, "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nhostnameOverride: n1\nconntrack:\n  maxPerCore: 0\n  udpTimeout: 30s\n  tcpBeLiberal: true\n");
    expect(daemon(["--config", file, "--conntrack-udp-timeout", "1m", "--conntrack-min", "5"]).conntrack).toEqual({
      maxPerCore: 0, min: 5, tcpEstablishedTimeout: 86_400, tcpCloseWaitTimeout: 3600, tcpBeLiberal: true, udpTimeout: 60, udpStreamTimeout: 0,
    });
    expect(() => daemon(["--hostname-override", "n1", "--conntrack-max-per-core=-5"])).toThrow("SP_BAD_FLAG: --conntrack-max-per-core: -5 is outside 0..2147483647");
    expect(() => daemon(["--hostname-override", "n1", "--conntrack-udp-timeout", "soon"])).toThrow('SP_BAD_FLAG: --conntrack-udp-timeout: "soon" is not a duration');
  });

  it("takes the keyword primary for --nodeport-addresses, alone", () => {
    expect(daemon(["--nodeport-addresses", "primary"]).settings.nodePortAddresses).toEqual(["primary"]);
  });
});

/** A config file with this body after the header; returns its path. */
function configWith(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\n${body}`);
  return path;
}

const bad = {
  clusterCIDR: configWith("bad-cluster-cidr.yaml", "clusterCIDR: 10.244.0.0/99\n"),
  twoCIDRs: configWith("two-cidrs.yaml", "clusterCIDR: 10.244.0.0/16,10.245.0.0/16\n"),
  nodePort: configWith("bad-nodeport.yaml", "nodePortAddresses: [10.0.0.0/8, nope]\n"),
  primaryMixed: configWith("primary-mixed.yaml", "nodePortAddresses: [10.0.0.0/8, primary]\n"),
  healthz: configWith("bad-healthz.yaml", "healthzBindAddress: \"10256\"\n"),
  metrics: configWith("bad-metrics.yaml", "metricsBindAddress: \"[::1]:99999\"\n"),
  host: configWith("bad-host.yaml", "hostnameOverride: node_a\n"),
  kubeconfig: configWith("bad-kubeconfig.yaml", `clientConnection:\n  kubeconfig: ${join(dir, "absent.kubeconfig")}\n`),
  minSync: configWith("bad-min-sync.yaml", "iptables:\n  minSyncPeriod: 1m\n"),
};

describe("each bad flag and config field has its own message, naming it", () => {
  it.each([
    [["--nodeport-adresses", "10.0.0.0/8"], "SP_BAD_FLAG: --nodeport-adresses: Unknown option '--nodeport-adresses'"],
    [["--kubeconfig", join(dir, "absent.kubeconfig")], `SP_BAD_FLAG: --kubeconfig: ${join(dir, "absent.kubeconfig")} does not exist or is not readable`],
    [["--hostname-override", "Node A"], 'SP_BAD_FLAG: --hostname-override: "Node A" is not a valid node name'],
    [["--hostname-override", `${"a".repeat(254)}`], "SP_BAD_FLAG: --hostname-override: \"aaaa"],
    [["--config", join(dir, "missing.yaml")], `SP_BAD_FLAG: --config: ${join(dir, "missing.yaml")} cannot be read`],
    [["--cluster-cidr", "10.244.0.0"], 'SP_BAD_FLAG: --cluster-cidr: "10.244.0.0" is not a CIDR'],
    [["--cluster-cidr", "10.244.0.0/16,10.245.0.0/16"], 'SP_BAD_FLAG: --cluster-cidr: "10.244.0.0/16" and "10.245.0.0/16" are both IPv4; give at most one CIDR of each family'],
    [["--masquerade-all=yes"], "SP_BAD_FLAG: --masquerade-all: Option '--masquerade-all' does not take an argument"],
    [["--nodeport-addresses", "10.0.0.1/33"], 'SP_BAD_FLAG: --nodeport-addresses: "10.0.0.1/33" is not a CIDR'],
    [["--nodeport-addresses", "primary,10.0.0.0/8"], 'SP_BAD_FLAG: --nodeport-addresses: "primary" cannot be combined with CIDRs'],
    [["--min-sync-period", "soon"], 'SP_BAD_FLAG: --min-sync-period: "soon" is not a duration'],
    [["--min-sync-period", "1m"], "SP_BAD_FLAG: --min-sync-period: the min sync period (60000 ms) is longer than the sync period (30000 ms)"],
    [["--sync-period", "0s"], "SP_BAD_FLAG: --sync-period: must be more than 0"],
    [["--sync-period", "500ms"], "SP_BAD_FLAG: --sync-period: the min sync period (1000 ms) is longer than the sync period (500 ms)"],
    [["--healthz-bind-address", "10256"], 'SP_BAD_FLAG: --healthz-bind-address: "10256" is not host:port'],
    [["--metrics-bind-address", "127.0.0.1:70000"], 'SP_BAD_FLAG: --metrics-bind-address: "127.0.0.1:70000" is not host:port'],
    [["--cleanup=1"], "SP_BAD_FLAG: --cleanup: Option '--cleanup' does not take an argument"],
    [["--iptables-netns", "a b"], 'SP_BAD_FLAG: --iptables-netns: "a b" is not a network namespace name'],
    [["--iptables-backend", "xtables"], 'SP_BAD_FLAG: --iptables-backend: "xtables" is not one of default, legacy, nft'],
    [["--sync-period", "1s", "--sync-period", "2s"], "SP_BAD_FLAG: --sync-period: given more than once"],
    [["--config", bad.clusterCIDR], `SP_BAD_CONFIG: ${bad.clusterCIDR}: clusterCIDR: "10.244.0.0/99" is not a CIDR`],
    [["--config", bad.twoCIDRs], `SP_BAD_CONFIG: ${bad.twoCIDRs}: clusterCIDR: "10.244.0.0/16" and "10.245.0.0/16" are both IPv4`],
    [["--config", bad.nodePort], `SP_BAD_CONFIG: ${bad.nodePort}: nodePortAddresses[1]: "nope" is not a CIDR`],
    [["--config", bad.primaryMixed], `SP_BAD_CONFIG: ${bad.primaryMixed}: nodePortAddresses[1]: "primary" cannot be combined with CIDRs`],
    [["--config", bad.healthz], `SP_BAD_CONFIG: ${bad.healthz}: healthzBindAddress: "10256" is not host:port`],
    [["--config", bad.metrics], `SP_BAD_CONFIG: ${bad.metrics}: metricsBindAddress: "[::1]:99999" is not host:port`],
    [["--config", bad.host], `SP_BAD_CONFIG: ${bad.host}: hostnameOverride: "node_a" is not a valid node name`],
    [["--config", bad.kubeconfig], `SP_BAD_CONFIG: ${bad.kubeconfig}: clientConnection.kubeconfig: ${join(dir, "absent.kubeconfig")} does not exist`],
    [["--config", bad.minSync], `SP_BAD_CONFIG: ${bad.minSync}: iptables.minSyncPeriod: the min sync period (60000 ms) is longer than the sync period (30000 ms)`],
  ])("%j", (argv, message) => {
    expect(() => daemon(argv)).toThrow(message);
  });

  it("takes kube-proxy's OOM score, bind hard-fail and config sync period, from the flags or the file", () => {
    expect(daemon(["--hostname-override", "n1"])).toMatchObject({ oomScoreAdj: -999, bindAddressHardFail: false, configSyncPeriodMs: 900_000, initOnly: false, writeConfigTo: null });
    const file = join(dir, "oom.yaml");
    writeFileSync(file, "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\noomScoreAdj: -10\nbindAddressHardFail: true\nconfigSyncPeriod: 1m\n");
    expect(daemon(["--config", file, "--hostname-override", "n1"])).toMatchObject({ oomScoreAdj: -10, bindAddressHardFail: true, configSyncPeriodMs: 60_000 });
    expect(daemon(["--config", file, "--hostname-override", "n1", "--oom-score-adj", "100"]).oomScoreAdj).toBe(100);
    expect(() => daemon(["--hostname-override", "n1", "--oom-score-adj", "-1001"])).toThrow("SP_BAD_FLAG: --oom-score-adj: -1001 is outside -1000..1000");
    expect(() => daemon(["--hostname-override", "n1", "--config-sync-period", "0s"])).toThrow("SP_BAD_FLAG: --config-sync-period: must be more than 0");
  });

  it("lets a flag given on the command line fix a bad config field", () => {
    expect(daemon(["--config", bad.clusterCIDR, "--cluster-cidr", "10.244.0.0/16", "--hostname-override", "n1"]).settings.clusterCIDRs).toEqual(["10.244.0.0/16"]);
  });
});

describe("resolveRuleSettings", () => {
  it("takes the rule flags of render and trace", () => {
    const { values } = parseFlags(["--masquerade-all", "--nodeport-addresses", "192.168.0.0/16"], ruleFlags);
    expect(resolveRuleSettings(values)).toEqual({
      clusterCIDRs: [], masqueradeAll: true, nodePortAddresses: ["192.168.0.0/16"], localhostNodePorts: true,
      detectLocal: { mode: "ClusterCIDR", bridgeInterface: "", interfaceNamePrefix: "" },
    });
  });

  it("takes every detect-local mode with the field it needs, from the flags or the file", () => {
    const rule = (argv: string[]) => resolveRuleSettings(parseFlags(argv, ruleFlags).values).detectLocal;
    expect(rule(["--detect-local-mode", "BridgeInterface", "--pod-bridge-interface", "cbr0"])).toEqual({ mode: "BridgeInterface", bridgeInterface: "cbr0", interfaceNamePrefix: "" });
    expect(rule(["--detect-local-mode", "InterfaceNamePrefix", "--pod-interface-name-prefix", "veth"])).toMatchObject({ mode: "InterfaceNamePrefix", interfaceNamePrefix: "veth" });
    expect(rule(["--detect-local-mode", "NodeCIDR"]).mode).toBe("NodeCIDR");
    const file = join(dir, "detect-local.yaml");
    writeFileSync(file, "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\ndetectLocalMode: InterfaceNamePrefix\ndetectLocal:\n  interfaceNamePrefix: cali\n");
    expect(rule(["--config", file])).toMatchObject({ mode: "InterfaceNamePrefix", interfaceNamePrefix: "cali" });
    expect(() => rule(["--detect-local-mode", "Magic"])).toThrow('SP_BAD_FLAG: --detect-local-mode: "Magic" is not one of ClusterCIDR, NodeCIDR, BridgeInterface, InterfaceNamePrefix');
    expect(() => rule(["--detect-local-mode", "BridgeInterface"])).toThrow('SP_BAD_FLAG: --pod-bridge-interface: "" is not a bridge interface name');
    writeFileSync(file, "apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\ndetectLocalMode: InterfaceNamePrefix\n");
    expect(() => rule(["--config", file])).toThrow(`SP_BAD_CONFIG: ${file}: detectLocal.interfaceNamePrefix: "" is not an interface name prefix`);
  });
});
