// signpost-dns, loaded by main.ts: cluster DNS that replaces CoreDNS. This parses the command
// line (or runs `signpost-dns import`, pkg/dns/config/import-command.ts), starts the daemon (pkg/dns/daemon.ts) and turns SIGTERM and SIGINT into its lameduck
// shutdown; a second signal ends the process at once.
import pino from "pino";
import { codeOrigin } from "../../pkg/cli/code-origin.ts";
import { renderHelp } from "../../pkg/cli/flags.ts";
import { runMain } from "../../pkg/cli/run-main.ts";
import { dnsFlags, dnsSummary, parseDnsCommandLine } from "../../pkg/dns/daemon-flags.ts";

runMain("signpost-dns", async () => {
  if (process.argv[2] === "import") {
    const { runImport } = await import("../../pkg/dns/config/import-command.ts");
    runImport(process.argv.slice(3), { stdout: (t) => process.stdout.write(t), stderr: (t) => process.stderr.write(t) });
    return;
  }
  const parsed = parseDnsCommandLine(process.argv.slice(2), process.env);
  if (parsed.help) {
    process.stdout.write(renderHelp("signpost-dns", dnsSummary, dnsFlags));
    return;
  }
  // Loaded after the flags are checked, so --help and a bad flag answer before the API client
  // and the rest are read in.
  const { startDnsDaemon } = await import("../../pkg/dns/daemon.ts");
  const log = pino({ name: "signpost-dns" });
  log.info(codeOrigin(), "starting");
  const daemon = await startDnsDaemon(parsed.config, log);
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, "second signal during shutdown: exiting now");
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, "signal received");
    daemon.shutdown().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
});
