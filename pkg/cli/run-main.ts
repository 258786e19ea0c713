// The outer frame of each daemon's main: a bad flag, config or kubeconfig ends the process with
// exit code 2 and one line naming what was wrong; anything unexpected with 1 and a stack.
import { isSignpostError } from "../errors/errors.ts";

export function runMain(command: string, main: () => Promise<void>): void {
  main().catch((err: unknown) => {
    if (isSignpostError(err)) {
      process.stderr.write(`${command}: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`${command}: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
