import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseFlags } from "../../cli/flags.ts";
import { parseKubeProxyConfig } from "./kube-proxy-config.ts";
import { daemonFlags, resolveDaemonOptions } from "./proxy-options.ts";
import { goDuration, kubeProxyConfigFile } from "./write-config.ts";

const dir = mkdtempSync(join(tmpdir(), "signpost-write-config-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const daemon = (argv: string[]) => resolveDaemonOptions(parseFlags(argv, daemonFlags).values);

describe("goDuration", () => {
  it.each([
    [0, "0s"],
    [500, "500ms"],
    [1000, "1s"],
    [1500, "1.5s"],
    [90_000, "1m30s"],
    [900_000, "15m0s"],
    [86_400_000, "24h0m0s"],
  ])("%d ms is %s", (ms, text) => {
    expect(goDuration(ms)).toBe(text);
  });
});

describe("kubeProxyConfigFile", () => {
  it("writes a file that --config reads back to the same options", () => {
    const argv = [
      "--hostname-override", "node-a", "--cluster-cidr", "10.244.0.0/16,fd00:10:244::/56", "--masquerade-all",
      "--detect-local-mode", "InterfaceNamePrefix", "--pod-interface-name-prefix", "veth",
      "--nodeport-addresses", "192.168.0.0/16", "--sync-period", "45s", "--min-sync-period", "500ms",
      "--healthz-bind-address", "127.0.0.1:10256", "--conntrack-min", "262144", "--conntrack-tcp-be-liberal",
      "--conntrack-udp-timeout", "30s", "--bind-address-hard-fail", "--oom-score-adj", "-500", "--config-sync-period", "5m",
    ];
    const written = daemon(argv);
    const file = join(dir, "written.yaml");
    writeFileSync(file, kubeProxyConfigFile(written));
    expect(parseKubeProxyConfig(kubeProxyConfigFile(written), file).ignored).toEqual([]);
    const reread = daemon(["--config", file]);
    expect({ ...reread, ignoredConfig: [], configFile: null }).toEqual({ ...written, ignoredConfig: [], configFile: null });
  });

  it("leaves hostnameOverride empty when the node name comes from the host, so one file fits every node", () => {
    expect(kubeProxyConfigFile(daemon([]))).toContain("hostnameOverride: ''");
  });
});
