import { describe, expect, it } from "vitest";
import { parseDnsCommandLine } from "./daemon-flags.ts";

function config(...argv: string[]) {
  return configIn({}, ...argv);
}

function configIn(env: Record<string, string>, ...argv: string[]) {
  const parsed = parseDnsCommandLine(argv, env);
  if (parsed.help) throw new Error("help asked");
  return parsed.config;
}

describe("signpost-dns command line", () => {
  it("has CoreDNS's defaults", () => {
    expect(config()).toEqual({
      zone: "cluster.local",
      listen: { host: "0.0.0.0", port: 53 },
      upstream: "/etc/resolv.conf",
      pods: "insecure",
      healthPort: 8080,
      readyPort: 8181,
      metricsPort: 9153,
      httpAddress: "0.0.0.0",
      tcp: { maxConnections: 1000, maxConnectionsPerIp: 100, idleTimeoutMs: 10_000, readTimeoutMs: 3000, writeBufferBytes: 16384 },
      lameduckMs: 5000,
      nodeLocalInterface: null,
      queryLog: false,
      objects: null,
      kubeconfig: null,
      ttl: 5,
      caches: { forwardBytes: 16 * 1024 * 1024, answerBytes: 32 * 1024 * 1024, servfailTtlMs: 5000 },
      configFile: null,
      configPollMs: 2000,
    });
  });

  it("reads every flag", () => {
    expect(
      config(
        "--zone", "Example.Test.", "--listen", "[::1]:1053", "--upstream", "/tmp/r.conf", "--pods", "verified",
        "--health-port", "0", "--ready-port", "18181", "--metrics-port", "19153", "--lameduck", "1m30s",
        "--query-log", "--objects", "dump.yaml", "--ttl", "30", "--forward-cache-bytes", "8Mi", "--answer-cache-bytes", "0", "--servfail-ttl", "30s",
        "--http-address", "10.244.0.7", "--tcp-max-connections", "50",
        "--tcp-max-connections-per-ip", "5", "--tcp-idle-timeout", "30s", "--tcp-read-timeout", "500ms", "--tcp-write-buffer", "4096",
      ),
    ).toMatchObject({
      zone: "example.test",
      listen: { host: "::1", port: 1053 },
      upstream: "/tmp/r.conf",
      pods: "verified",
      healthPort: 0,
      readyPort: 18181,
      metricsPort: 19153,
      lameduckMs: 90_000,
      queryLog: true,
      objects: "dump.yaml",
      ttl: 30,
      caches: { forwardBytes: 8 * 1024 * 1024, answerBytes: 0, servfailTtlMs: 30_000 },
      httpAddress: "10.244.0.7",
      tcp: { maxConnections: 50, maxConnectionsPerIp: 5, idleTimeoutMs: 30_000, readTimeoutMs: 500, writeBufferBytes: 4096 },
    });
  });

  it("binds the side servers to the DNS address when it is one, else to $POD_IP, else to every address", () => {
    expect(configIn({ POD_IP: "10.244.1.5" }, "--listen", "127.0.0.1:53").httpAddress).toBe("127.0.0.1");
    expect(configIn({ POD_IP: "10.244.1.5" }, "--listen", "[fd00::1]:53").httpAddress).toBe("fd00::1");
    expect(configIn({ POD_IP: "10.244.1.5" }).httpAddress).toBe("10.244.1.5");
    expect(configIn({ POD_IP: "fd00:10:244::5" }, "--listen", "[::]:53").httpAddress).toBe("fd00:10:244::5");
    expect(configIn({ POD_IP: "10.244.1.5" }, "--listen", "[0::0]:53").httpAddress).toBe("10.244.1.5");
    expect(configIn({ POD_IP: "" }, "--listen", "[::]:53").httpAddress).toBe("::");
    expect(configIn({ POD_IP: "10.244.1.5" }, "--http-address", "0.0.0.0").httpAddress).toBe("0.0.0.0");
  });

  it("refuses a POD_IP that is not an address, naming the flag it stands in for", () => {
    expect(() => configIn({ POD_IP: "$(POD_IP)" })).toThrow('SP_BAD_FLAG: --http-address: its default, $POD_IP, is "$(POD_IP)", not an IP address');
  });

  it("lets every side server take any free port at once", () => {
    expect(config("--health-port", "0", "--ready-port", "0", "--metrics-port", "0", "--listen", "127.0.0.1:0")).toMatchObject({
      healthPort: 0,
      readyPort: 0,
      metricsPort: 0,
    });
  });

  it("answers --help", () => {
    expect(parseDnsCommandLine(["--help"])).toEqual({ help: true });
  });

  const bad: readonly (readonly [string[], string])[] = [
    [["--listen", "53"], 'SP_BAD_FLAG: --listen: "53" is not HOST:PORT'],
    [["--listen", "dns.local:53"], 'SP_BAD_FLAG: --listen: "dns.local" is not an IP address'],
    [["--listen", "::1:53"], 'SP_BAD_FLAG: --listen: "::1:53" is not HOST:PORT'],
    [["--listen", "127.0.0.1:65536"], "SP_BAD_FLAG: --listen: port 65536 is outside 0..65535"],
    [["--zone", "bad_zone.local"], 'SP_BAD_FLAG: --zone: "bad_zone.local" is not a domain name'],
    [["--zone", "10.in-addr.arpa"], 'SP_BAD_FLAG: --zone: "10.in-addr.arpa" is a reverse zone'],
    [["--pods", "all"], 'SP_BAD_FLAG: --pods: "all" is not one of disabled, insecure, verified'],
    [["--health-port", "eighty"], 'SP_BAD_FLAG: --health-port: "eighty" is not an integer'],
    [["--ready-port=-1"], "SP_BAD_FLAG: --ready-port: -1 is outside 0..65535"],
    [["--metrics-port", "99999"], "SP_BAD_FLAG: --metrics-port: 99999 is outside 0..65535"],
    [["--lameduck", "5"], 'SP_BAD_FLAG: --lameduck: "5" is not a duration'],
    [["--forward-cache-bytes", "32MB"], 'SP_BAD_FLAG: --forward-cache-bytes: "32MB" is not a size in bytes'],
    [["--answer-cache-bytes", "64Ki"], "SP_BAD_FLAG: --answer-cache-bytes: 65536 bytes is below 1Mi"],
    [["--servfail-ttl", "10m"], "SP_BAD_FLAG: --servfail-ttl: 600000 ms is outside 1s..5m (RFC 9520)"],
    [["--servfail-ttl", "500ms"], "SP_BAD_FLAG: --servfail-ttl: 500 ms is outside 1s..5m"],
    [["--upstream", ""], "SP_BAD_FLAG: --upstream: is empty"],
    [["--objects", "a.yaml", "--kubeconfig", "k"], "SP_BAD_FLAG: --objects: serves a file without an API server"],
    [["--query-log=yes"], "SP_BAD_FLAG: --query-log"],
    [["--zonee", "x"], "SP_BAD_FLAG: --zonee: Unknown option '--zonee'"],
    [["serve"], "SP_BAD_FLAG: serve: signpost-dns takes no arguments"],
    [["--objects", ""], "SP_BAD_FLAG: --objects: is empty"],
    [["--kubeconfig="], "SP_BAD_FLAG: --kubeconfig: is empty"],
    [["--ready-port", "8080"], "SP_BAD_FLAG: --ready-port: 8080 is also --health-port; each side server needs a port of its own"],
    [["--ttl", "3601"], "SP_BAD_FLAG: --ttl: 3601 is outside 0..3600 seconds"],
    [["--ttl=-1"], "SP_BAD_FLAG: --ttl: -1 is outside 0..3600 seconds"],
    [["--ttl", "5s"], 'SP_BAD_FLAG: --ttl: "5s" is not an integer'],
    [["--metrics-port", "8181"], "SP_BAD_FLAG: --metrics-port: 8181 is also --ready-port"],
    [["--listen", "127.0.0.1:9153"], "SP_BAD_FLAG: --metrics-port: 9153 is the DNS port of --listen"],
    [["--http-address", "localhost"], 'SP_BAD_FLAG: --http-address: "localhost" is not an IP address'],
    [["--tcp-max-connections", "0"], "SP_BAD_FLAG: --tcp-max-connections: 0 is not positive"],
    [["--tcp-max-connections-per-ip=-3"], "SP_BAD_FLAG: --tcp-max-connections-per-ip: -3 is not positive"],
    [["--tcp-write-buffer", "16k"], 'SP_BAD_FLAG: --tcp-write-buffer: "16k" is not an integer'],
    [["--tcp-idle-timeout", "0s"], "SP_BAD_FLAG: --tcp-idle-timeout: must be longer than 0s"],
    [["--tcp-read-timeout", "3"], 'SP_BAD_FLAG: --tcp-read-timeout: "3" is not a duration'],
  ];
  for (const [argv, message] of bad) {
    it(`refuses ${argv.join(" ")}`, () => {
      expect(() => parseDnsCommandLine(argv)).toThrow(message);
    });
  }
});
