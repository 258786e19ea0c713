import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseDnsCommandLine } from "../daemon-flags.ts";
import { configFromText } from "./config-reload.ts";
import { describeConfig, restartOnlyChanges } from "./effective-config.ts";

const dir = mkdtempSync(join(tmpdir(), "dns-autopath-config-"));
const resolvConf = join(dir, "resolv.conf");
writeFileSync(resolvConf, "nameserver 10.0.0.10\n");
const head = "apiVersion: signpost.dev/v1alpha1\nkind: DNSConfiguration\n";
const file = "/etc/signpost/dns.yaml";

function load(body: string, ...args: string[]) {
  const parsed = parseDnsCommandLine(["--upstream", resolvConf, ...args]);
  if (parsed.help) throw new Error("help");
  return configFromText(parsed.config, head + body, file);
}

describe("cluster.autopath in the --config file", () => {
  it("turns autopath on with the host's search domains, lower-case and without the trailing dot", () => {
    const config = load("cluster: {pods: verified, autopath: true, autopathSearch: [Corp.Example., lab.corp.example]}\n");
    expect(config.daemon.autopath).toEqual({ search: ["corp.example", "lab.corp.example"] });
    expect(describeConfig(config)["cluster"]).toMatchObject({ autopath: { search: ["corp.example", "lab.corp.example"] } });
  });

  it("takes pods verified from the flag as well as from the file", () => {
    expect(load("cluster: {autopath: true}\n", "--pods", "verified").daemon.autopath).toEqual({ search: [] });
  });

  it("is off when absent or false", () => {
    expect(load("cluster: {pods: verified}\n").daemon.autopath).toBeUndefined();
    expect(load("cluster: {pods: verified, autopath: false}\n").daemon.autopath).toBeUndefined();
  });

  it("refuses autopath unless pods is verified, naming the field", () => {
    expect(() => load("cluster: {autopath: true}\n")).toThrow(
      `SP_BAD_CONFIG: ${file}: cluster.autopath: needs cluster.pods: verified (pods is insecure)`,
    );
    expect(() => load("cluster: {pods: disabled, autopath: true}\n")).toThrow(/cluster\.autopath: needs cluster\.pods: verified \(pods is disabled\)/);
  });

  it("refuses search domains without autopath, a bad domain, and a wrong type", () => {
    expect(() => load("cluster: {pods: verified, autopathSearch: [corp.example]}\n")).toThrow(/cluster\.autopathSearch: is set but cluster\.autopath is not true/);
    expect(() => load("cluster: {pods: verified, autopath: true, autopathSearch: [corp.example, 'bad name']}\n")).toThrow(
      /cluster\.autopathSearch\[1\]: "bad name" is not a domain name/,
    );
    expect(() => load("cluster: {pods: verified, autopath: yes please}\n")).toThrow(/cluster\.autopath: must be true or false/);
  });

  it("takes effect at the next restart, as every cluster field", () => {
    const before = load("cluster: {pods: verified}\n");
    const after = load("cluster: {pods: verified, autopath: true}\n");
    expect(restartOnlyChanges(before, after)).toEqual(["cluster"]);
  });
});
