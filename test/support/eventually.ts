// Waits for a condition that the system under test reaches on its own time. A timeout here is a
// failure to converge, never a speed requirement: the limits are generous.
import { setTimeout as sleep } from "node:timers/promises";

export async function eventually(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(50);
  }
  throw new Error(`not reached within ${timeoutMs} ms: ${what}`);
}
