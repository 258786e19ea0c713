// `signpost-dns import --corefile FILE` and `signpost-dns import --kube-dns-configmap FILE`: the
// equivalent DNSConfiguration on stdout, each setting that has none named on stderr (and in the
// output's header comment). Exit 0 when something was converted, even with settings left over:
// the operator reads the list; a source with nothing convertible is SP_BAD_CONFIG (exit 2).
import { readFileSync } from "node:fs";
import { parseFlags, renderHelp, stringFlag, type FlagSpecs } from "../../cli/flags.ts";
import { SignpostError } from "../../errors/errors.ts";
import { parseZone } from "../daemon-flags.ts";
import { importCorefile, importKubeDnsConfigMap, renderImport } from "./import-config.ts";

export const importFlags: FlagSpecs = {
  corefile: { type: "string", help: "a CoreDNS Corefile (the Corefile key of the coredns ConfigMap)" },
  "kube-dns-configmap": { type: "string", help: "the kube-dns ConfigMap (kubectl -n kube-system get configmap kube-dns -o yaml)" },
  "cluster-domain": { type: "string", help: "the cluster domain, for a kube-dns ConfigMap (kube-dns's --domain)", default: "cluster.local" },
};

const summary = "Prints the signpost-dns DNSConfiguration equivalent to a CoreDNS Corefile or a kube-dns ConfigMap, and names what has no equivalent.";

export interface ImportOutput {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export function runImport(argv: readonly string[], out: ImportOutput): void {
  const { values, positionals } = parseFlags(argv, importFlags);
  if (values["help"] === true) {
    out.stdout(renderHelp("signpost-dns import", summary, importFlags));
    return;
  }
  if (positionals.length > 0) throw new SignpostError("SP_BAD_FLAG", positionals[0] ?? "", "signpost-dns import takes flags only (see signpost-dns import --help)");
  const corefile = stringFlag(values, "corefile");
  const configMap = stringFlag(values, "kube-dns-configmap");
  if ((corefile === "") === (configMap === "")) throw new SignpostError("SP_BAD_FLAG", "--corefile", "give exactly one of --corefile and --kube-dns-configmap");
  const file = corefile !== "" ? corefile : configMap;
  let source: string;
  try {
    source = readFileSync(file, "utf8");
  } catch (err) {
    throw new SignpostError("SP_BAD_CONFIG", file, "cannot be read", { cause: err });
  }
  const result = corefile !== "" ? importCorefile(source, file) : importKubeDnsConfigMap(source, file, parseZone(stringFlag(values, "cluster-domain")));
  for (const n of result.notes) out.stderr(`signpost-dns import: not converted: ${n.where}: ${n.what}: ${n.reason}\n`);
  if (result.converted === 0) throw new SignpostError("SP_BAD_CONFIG", file, "nothing in it could be converted into a DNSConfiguration");
  out.stdout(renderImport(result, file));
}
