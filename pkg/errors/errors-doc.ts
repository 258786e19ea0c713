// docs/errors.md, written from the catalogue in errors.ts: `node pkg/errors/errors-doc.ts`
// prints it, and a test keeps the committed file equal to it.
import { errorCodes } from "./errors.ts";

export function errorsDoc(): string {
  const lines = [
    "# signpost's errors",
    "",
    "Every error signpost-proxy and signpost-dns report starts with a code, then where the problem is",
    "(a flag, a file and field, an object and JSON path), then what was wrong: for example",
    "`signpost-proxy: SP_BAD_FLAG: --node: is required`. A bad flag, file or kubeconfig ends the",
    "process with exit code 2; a bad object or packet is logged and the daemon serves everything else.",
    "",
    "This page is written from `pkg/errors/errors.ts`; do not edit it by hand.",
    "",
  ];
  for (const [code, entry] of Object.entries(errorCodes)) {
    lines.push(`## ${code}`, "", `**${entry.summary}.**`, "", `- Cause: ${entry.cause}.`, `- Fix: ${entry.fix}.`, "");
  }
  return lines.join("\n");
}

if (import.meta.url === `file://${process.argv[1] ?? ""}`) process.stdout.write(errorsDoc());
