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

  it("names a malformed flag", () => {
    expect(() => daemon(["--nodeport-addresses", "10.0.0.1/33"])).toThrow('SP_BAD_FLAG: --nodeport-addresses: "10.0.0.1/33" is not a CIDR');
    expect(() => daemon(["--healthz-bind-address", "10256"])).toThrow("SP_BAD_FLAG: --healthz-bind-address");
    expect(() => daemon(["--iptables-netns", "a b"])).toThrow("SP_BAD_FLAG: --iptables-netns");
    expect(() => daemon(["--config", join(dir, "missing.yaml")])).toThrow("SP_BAD_CONFIG");
  });
});

describe("resolveRuleSettings", () => {
  it("takes the rule flags of render and trace", () => {
    const { values } = parseFlags(["--masquerade-all", "--nodeport-addresses", "192.168.0.0/16"], ruleFlags);
    expect(resolveRuleSettings(values)).toEqual({ clusterCIDRs: [], masqueradeAll: true, nodePortAddresses: ["192.168.0.0/16"], localhostNodePorts: true });
  });
});
