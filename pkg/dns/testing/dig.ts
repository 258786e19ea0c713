// Whether the real dig is on this machine. hack/setup.sh installs it (dnsutils), so under
// ./hack/test.sh and in CI the dig tests always run; the check only spares a developer who runs
// `vitest --project unit` on a machine without dnsutils a wall of spawn errors.
import { execFileSync } from "node:child_process";

export function hasDig(): boolean {
  try {
    execFileSync("dig", ["-v"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}
