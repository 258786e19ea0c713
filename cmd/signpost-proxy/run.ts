// signpost-proxy, loaded by main.ts: the per-node Service proxy that replaces kube-proxy.
// Without a subcommand it is the daemon (or, with --cleanup, removes what the daemon
// installed). Two offline subcommands read a file of objects instead of the API server:
// `render` prints the iptables-restore input the daemon would program on a node, `trace` walks
// one connection through it.
import pino from "pino";
import { codeOrigin } from "../../pkg/cli/code-origin.ts";
import { parseFlags, renderHelp, stringFlag, numberFlag, type FlagSpecs, type FlagValues } from "../../pkg/cli/flags.ts";
import { runMain } from "../../pkg/cli/run-main.ts";
import { SignpostError } from "../../pkg/errors/errors.ts";
import type { IPFamily, Protocol } from "../../pkg/model/types.ts";
import { daemonFlags, resolveDaemonOptions, resolveRuleSettings, ruleFlags } from "../../pkg/proxy/config/proxy-options.ts";
import { initializeNode, startDaemon } from "../../pkg/proxy/daemon.ts";
import { targetNamespace } from "../../pkg/proxy/exec/target-namespace.ts";
import { kubeProxyConfigFile } from "../../pkg/proxy/config/write-config.ts";
import { writeFileSync } from "node:fs";
import { watchConfigFile } from "../../pkg/proxy/config/config-file-watch.ts";
import { routeLocalnetOff } from "../../pkg/proxy/exec/sysctl.ts";
import { cleanupRules } from "../../pkg/proxy/iptables/cleanup.ts";
import { IptablesExecutor } from "../../pkg/proxy/iptables/executor.ts";
import { parseIPSloppy } from "../../pkg/model/ip.ts";
import { describeSkipped, readObjectsFile, type ClusterObjects } from "../../pkg/kube/objects-file.ts";
import { proxyObjectKinds } from "../../pkg/proxy/offline/offline-render.ts";
import { renderForNode, traceForNode } from "../../pkg/proxy/offline/offline-render.ts";

const offlineFlags: FlagSpecs = {
  objects: { type: "string", help: "a v1 List of Nodes, Services and EndpointSlices (kubectl get nodes,services,endpointslices -A -o yaml)" },
  node: { type: "string", help: "the Node to render for; its addresses come from its object in --objects" },
  "ip-family": { type: "string", help: "the family to render (iptables or ip6tables rules)", default: "IPv4", choices: ["IPv4", "IPv6"] },
  ...ruleFlags,
};

const traceFlags: FlagSpecs = {
  ...offlineFlags,
  src: { type: "string", help: "the connection's source address" },
  dst: { type: "string", help: "the connection's destination address" },
  port: { type: "integer", help: "the destination port" },
  proto: { type: "string", help: "the protocol", default: "tcp", choices: ["tcp", "udp", "sctp"] },
};

function required(values: Readonly<Record<string, unknown>>, name: string): string {
  const v = values[name];
  if (typeof v !== "string" || v === "") throw new SignpostError("SP_BAD_FLAG", `--${name}`, "is required");
  return v;
}

/** Parses a subcommand's flags; null when it printed its help instead. No positionals are taken. */
function subcommandFlags(argv: readonly string[], flags: FlagSpecs, command: string, summary: string): FlagValues | null {
  const { values, positionals } = parseFlags(argv, flags);
  if (values["help"] === true) {
    process.stdout.write(renderHelp(command, summary, flags));
    return null;
  }
  if (positionals.length > 0) throw new SignpostError("SP_BAD_FLAG", positionals[0] ?? "", "unexpected argument");
  return values;
}

/** The node named by --node and the objects read from --objects; what was skipped goes to stderr. */
function nodeAndObjects(values: FlagValues, command: string): { nodeName: string; objects: ClusterObjects } {
  const nodeName = required(values, "node");
  const objects = readObjectsFile(required(values, "objects"), proxyObjectKinds);
  for (const s of objects.skipped) process.stderr.write(`${command}: skipped ${describeSkipped(s)}\n`);
  return { nodeName, objects };
}

function render(argv: readonly string[]): void {
  const values = subcommandFlags(argv, offlineFlags, "signpost-proxy render", "Prints the iptables-restore input signpost-proxy would program on a node for these objects.");
  if (values === null) return;
  const { nodeName, objects } = nodeAndObjects(values, "signpost-proxy render");
  const result = renderForNode({
    objects,
    nodeName,
    settings: resolveRuleSettings(values),
    family: stringFlag(values, "ip-family") as IPFamily,
  });
  process.stdout.write(result.text);
}

function trace(argv: readonly string[]): void {
  const values = subcommandFlags(argv, traceFlags, "signpost-proxy trace", "Walks one new connection through the rules `render` prints and prints where it goes, as JSON.");
  if (values === null) return;
  const src = required(values, "src");
  const dst = required(values, "dst");
  const family = parseIPSloppy(dst)?.family ?? null;
  if (family === null) throw new SignpostError("SP_BAD_FLAG", "--dst", `"${dst}" is not an IP address`);
  if (parseIPSloppy(src)?.family !== family) throw new SignpostError("SP_BAD_FLAG", "--src", `"${src}" is not an IP address of the same family as --dst`);
  const port = numberFlag(values, "port");
  if (port < 1 || port > 65535) throw new SignpostError("SP_BAD_FLAG", "--port", "must be a port number, 1 to 65535");
  const { nodeName, objects } = nodeAndObjects(values, "signpost-proxy trace");
  const report = traceForNode({
    objects,
    nodeName,
    settings: resolveRuleSettings(values),
    family,
    src,
    dst,
    port,
    protocol: stringFlag(values, "proto").toUpperCase() as Protocol,
  });
  process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
}

async function daemon(argv: readonly string[]): Promise<void> {
  const { values, positionals } = parseFlags(argv, daemonFlags);
  if (values["help"] === true) {
    process.stdout.write(
      renderHelp("signpost-proxy", "Programs iptables NAT rules for Kubernetes Services on this node (replaces kube-proxy).\nSubcommands: render, trace (see signpost-proxy render --help).", daemonFlags),
    );
    return;
  }
  if (positionals.length > 0) throw new SignpostError("SP_BAD_FLAG", positionals[0] ?? "", "unknown subcommand (known: render, trace)");
  const options = resolveDaemonOptions(values);
  const log = pino({ name: "signpost-proxy" });
  if (options.writeConfigTo !== null) {
    try {
      writeFileSync(options.writeConfigTo, kubeProxyConfigFile(options));
    } catch (err) {
      throw new SignpostError("SP_BAD_FLAG", "--write-config-to", `${options.writeConfigTo} cannot be written`, { cause: err });
    }
    log.info({ file: options.writeConfigTo }, "wrote the configuration");
    return;
  }
  if (options.initOnly) {
    await initializeNode(options, log);
    return;
  }
  if (options.cleanup) {
    const { runner, sysctls } = targetNamespace(options.iptablesNetns);
    for (const family of ["IPv4", "IPv6"] as const) {
      try {
        const report = await cleanupRules(new IptablesExecutor(family, runner, options.iptablesBackend), { routeLocalnetOff: () => routeLocalnetOff(sysctls, runner) });
        log.info({ family, ...report }, "cleaned up");
        if (report.localnetGuard === "kept") log.warn({ family }, "the localnet guard (KUBE-FIREWALL) stays: route_localnet is still on for some interface");
      } catch (err) {
        if (family === "IPv4") throw err;
        log.warn({ family, err }, "cleanup skipped");
      }
    }
    return;
  }
  log.info(codeOrigin(), "starting");
  const running = await startDaemon(options, log);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "stopping; rules stay in place");
    running.stop().then(
      () => process.exit(process.exitCode ?? 0),
      (err: unknown) => {
        log.error({ err }, "stop failed");
        process.exit(1);
      },
    );
  };
  // Listeners that stay: execa's child clean-up (signal-exit) re-raises a signal that finds no
  // listener but its own, which killed the daemon when SIGTERM came while an iptables child ran.
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  // As kube-proxy: a changed --config file ends the daemon, and the DaemonSet starts it again
  // with the new settings; the rules stay in place meanwhile.
  if (options.configFile !== null) {
    const { path, text } = options.configFile;
    watchConfigFile(path, text, 2000, {
      changed: () => {
        log.warn({ file: path }, "the --config file changed: exiting so that the new settings take effect on restart");
        process.exitCode = 1;
        stop("config file changed");
      },
      unreadable: (err) => log.warn({ file: path, err }, "the --config file cannot be read; the settings read at start stay"),
    });
  }
}

runMain("signpost-proxy", async () => {
  const [first, ...rest] = process.argv.slice(2);
  if (first === "render") render(rest);
  else if (first === "trace") trace(rest);
  else await daemon(process.argv.slice(2));
});
